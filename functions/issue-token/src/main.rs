//! Enters the waiting room or returns the caller's live queue token (POST /queue/tokens).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(issue_token::handle).await
}
