//! A room's proof-of-work challenge (GET /concerts/{concertId}/challenge).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(get_challenge::handle).await
}
