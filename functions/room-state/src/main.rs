//! A waiting room's public state, the same for every fan (GET /concerts/{concertId}/room).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(room_state::handle).await
}
