//! Lists the caller's holds and purchases (GET /users/me/reservations).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(my_reservations::handle).await
}
