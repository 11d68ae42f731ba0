//! Operators: a room's sale summed up (GET /admin/concerts/{concertId}/report).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(room_report::handle).await
}
