//! The operator's live console of the waiting rooms (GET /admin).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(operator_page::handle).await
}
