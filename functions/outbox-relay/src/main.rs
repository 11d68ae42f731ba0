//! Scheduled: publishes payment events still waiting in the outbox to Kafka.

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::with_payment_events().await?.events(outbox_relay::handle).await
}
