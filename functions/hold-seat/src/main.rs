//! Holds a seat for HOLD_SECONDS (POST /reservations).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(hold_seat::handle).await
}
