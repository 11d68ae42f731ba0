//! Feeds the payments topic to the `on-payment-completed` handler, as Lambda's Kafka event source
//! would. Reads the same settings as the functions (`KAFKA_BROKERS`, `PAYMENTS_TOPIC`, ...).
//!
//! `cargo run -p local-stack --bin kafka-trigger`

use std::time::Duration;

use ticketing::{App, Config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ticketing::telemetry::init();
    let config = Config::from_env()?;
    let brokers = config.kafka_brokers.clone().ok_or("KAFKA_BROKERS is required")?;
    let topic = config.payments_topic.clone();
    let app = App::new(config).await?;
    local_stack::kafka_trigger::ensure_topic(&brokers, &topic, 3).await?;
    let consumer = local_stack::kafka_trigger::consumer(&brokers, "on-payment-completed", &topic)?;
    tracing::info!(%brokers, %topic, "feeding Kafka batches to on-payment-completed");
    loop {
        if let Err(e) = local_stack::kafka_trigger::run_batch(&app, &consumer, 100, Duration::from_secs(1)).await {
            tracing::error!(error = %e, "batch failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
