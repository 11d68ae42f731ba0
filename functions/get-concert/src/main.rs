//! One concert of the public catalog with its room state (GET /concerts/{concertId}).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(get_concert::handle).await
}
