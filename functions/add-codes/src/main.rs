//! Operators: load or generate a room's presale codes (POST /admin/concerts/{concertId}/codes).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(add_codes::handle).await
}
