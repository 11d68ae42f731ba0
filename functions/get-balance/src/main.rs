//! Returns the caller's balance (GET /users/me/balance).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(get_balance::handle).await
}
