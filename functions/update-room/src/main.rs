//! Operators: changes a running waiting room (PATCH /admin/concerts/{concertId}/room).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(update_room::handle).await
}
