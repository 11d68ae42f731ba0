//! Operators: a waiting room's live state (GET /admin/concerts/{concertId}/room).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(room_status::handle).await
}
