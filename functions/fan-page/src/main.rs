//! The fan's page: catalog, waiting line, seat map, holds and payment (GET /).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(fan_page::handle).await
}
