//! Reports a queue token's status, position and ETA (GET /queue/tokens/current).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(token_status::handle).await
}
