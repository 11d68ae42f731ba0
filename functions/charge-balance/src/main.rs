//! Adds to the caller's balance, once per Idempotency-Key (POST /users/me/balance).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(charge_balance::handle).await
}
