//! The public catalog: concerts with sale windows, room states and available seats (GET /concerts).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(list_concerts::handle).await
}
