//! Leaves the caller's waiting room (DELETE /queue/tokens/current).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(leave_queue::handle).await
}
