//! What the cloud runs around the functions, in-process: the schedules (each scheduled handler
//! invoked back to back, as the once-a-minute schedule would, so it ticks every second) and
//! Lambda's Kafka event source feeding `on-payment-completed` ([`crate::kafka_trigger`]). The
//! gateway starts both; `bin/kafka-trigger.rs` runs the Kafka source alone beside
//! `cargo lambda watch`.

use std::future::Future;
use std::time::Duration;

use lambda_runtime::{Context, LambdaEvent};
use serde_json::json;
use ticketing::App;

use crate::kafka_trigger;

/// Runs a scheduled handler back to back forever, each invocation with a deadline a little over a
/// minute away, so it ticks every second.
pub fn spawn_schedule<F, Fut>(name: &'static str, mut invoke: F)
where
    F: FnMut(LambdaEvent<serde_json::Value>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<serde_json::Value, lambda_runtime::Error>> + Send,
{
    tokio::spawn(async move {
        loop {
            let mut context = Context::default();
            context.deadline = ticketing::domain::now_ms() + 61_500;
            context.request_id = format!("{name}-{:x}", rand::random::<u64>());
            let event = json!({"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}});
            if let Err(e) = invoke(LambdaEvent::new(event, context)).await {
                tracing::error!(schedule = name, error = %e, "scheduled run failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });
}

/// Feeds the payments topic to `on-payment-completed` in batches, forever, as Lambda's Kafka
/// event source does (consumer group `on-payment-completed`, at-least-once).
pub async fn run_kafka_source(app: &App) -> Result<(), String> {
    let (brokers, topic) = (app.config.kafka.brokers.clone().ok_or("KAFKA_BROKERS is required")?, &app.config.kafka.payments_topic);
    kafka_trigger::ensure_topic(&brokers, topic, 3).await?;
    let consumer = kafka_trigger::consumer(&brokers, "on-payment-completed", topic).map_err(|e| format!("Kafka consumer: {e}"))?;
    tracing::info!(%brokers, %topic, "feeding Kafka batches to on-payment-completed");
    loop {
        if let Err(e) = kafka_trigger::run_batch(app, &consumer, 100, Duration::from_secs(1)).await {
            tracing::error!(error = %e, "Kafka batch failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// The schedules, and the Kafka source when the app publishes to Kafka.
pub async fn start(app: &'static App) -> Result<(), String> {
    spawn_schedule("activate-queue", move |event| activate_queue::handle(app, event));
    spawn_schedule("expire-holds", move |event| expire_holds::handle(app, event));
    if app.events().is_some() {
        spawn_schedule("outbox-relay", move |event| outbox_relay::handle(app, event));
        let brokers = app.config.kafka.brokers.clone().unwrap_or_default();
        // Create the topic before the gateway answers, so the first payment finds it.
        kafka_trigger::ensure_topic(&brokers, &app.config.kafka.payments_topic, 3).await?;
        tokio::spawn(async move {
            if let Err(e) = run_kafka_source(app).await {
                tracing::error!(error = %e, "the Kafka event source stopped");
            }
        });
    }
    Ok(())
}
