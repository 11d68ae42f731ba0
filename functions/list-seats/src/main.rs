//! Lists the seats of a schedule (GET /concerts/{concertId}/schedules/{scheduleId}/seats).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(list_seats::handle).await
}
