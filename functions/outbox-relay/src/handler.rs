//! Scheduled: publishes payment events still waiting in the outbox to Kafka, once per tick until
//! the invocation's deadline, and trims what Kafka acknowledged.
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use std::sync::atomic::{AtomicU64, Ordering};

use lambda_runtime::{Error, LambdaEvent};
use serde_json::{json, Value};
use ticketing::events::PaymentEvents;
use ticketing::schedule::{run_ticks, stop_at};
use ticketing::App;

pub async fn handle(app: &App, events: &PaymentEvents, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let stop = stop_at(event.context.deadline, &event.payload);
    let published = AtomicU64::new(0);
    let ticks = run_ticks(stop, app.config.tick, |_now| {
        let published = &published;
        async move {
            let report = events.relay(&app.store).await?;
            published.fetch_add(report.published, Ordering::Relaxed);
            if report.published > 0 || report.stalled_schedules > 0 {
                tracing::info!(published = report.published, stalled = report.stalled_schedules, "outbox relayed");
            }
            Ok(())
        }
    })
    .await;
    Ok(json!({ "ticks": ticks, "published": published.into_inner() }))
}
