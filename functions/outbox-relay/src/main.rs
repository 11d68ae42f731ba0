//! Scheduled: publishes payment events still waiting in the outbox to Kafka.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    let events = ticketing::events::producer_for_process(&app.config).await?.ok_or("outbox-relay needs KAFKA_BROKERS")?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| outbox_relay::handle(&app, events, event))).await
}
