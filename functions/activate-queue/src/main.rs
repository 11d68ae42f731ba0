//! Scheduled: admits waiting users every tick until the invocation's deadline.

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.events(activate_queue::handle).await
}
