//! Kafka trigger: counts each PaymentCompleted event once in the sales ledger.

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.events(on_payment_completed::handle).await
}
