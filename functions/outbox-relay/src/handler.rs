//! Scheduled: publishes payment events still waiting in the outbox to Kafka, once per tick until
//! the invocation's deadline, and trims what Kafka acknowledged.
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_runtime::{Error, LambdaEvent};
use serde_json::{json, Value};
use ticketing::domain::now_ms;
use ticketing::metrics::{Line, Unit};
use ticketing::schedule::every_tick;
use ticketing::store::StoreError;
use ticketing::App;

/// Without a Kafka producer (no `KAFKA_BROKERS`) there is nothing to publish to: the events wait.
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, Error> {
    if app.events().is_none() {
        tracing::warn!("KAFKA_BROKERS is not set: payment events wait in the outbox");
        return Ok(json!({ "ticks": 0, "published": 0 }));
    }
    // The first tick visits every schedule; the others those with events waiting.
    let mut first = true;
    Ok(every_tick(app, &event, "published", |_now| relay(app, std::mem::replace(&mut first, false))).await)
}

async fn relay(app: &App, full: bool) -> Result<u64, StoreError> {
    let Some(events) = app.events() else { return Ok(0) };
    let report = events.relay(&app.store, full).await?;
    Line::new(now_ms()).metric("OutboxOldestAge", Unit::Milliseconds, report.oldest_unpublished_ms as f64).emit();
    if report.published > 0 || report.stalled_schedules > 0 {
        tracing::info!(published = report.published, stalled = report.stalled_schedules, "outbox relayed");
    }
    Ok(report.published)
}
