//! A room's pre-queue lottery, for anyone to check (GET /concerts/{concertId}/lottery).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(get_lottery::handle).await
}
