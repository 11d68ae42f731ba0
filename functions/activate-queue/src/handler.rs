//! Scheduled: admits waiting users every tick until the invocation's deadline.
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;
use ticketing::schedule::every_tick;
use ticketing::store::StoreError;
use ticketing::App;

/// Admits waiting users once per tick until the invocation's deadline. The schedule fires every
/// minute; each tick is numbered by the clock, so overlapping invocations admit once per tick.
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(every_tick(app, &event, "admitted", |now| admit(app, now)).await)
}

async fn admit(app: &App, now: u64) -> Result<u64, StoreError> {
    let tick_ms = app.config.tick.as_millis() as u64;
    let report = app.store.queue.admission_tick(now / tick_ms, now, app.admission()).await?;
    if report.ran && (report.admitted + report.dropped_idle + report.expired_active) > 0 {
        tracing::info!(
            admitted = report.admitted,
            expired = report.expired_active,
            dropped_idle = report.dropped_idle,
            waiting = report.still_waiting,
            "admission tick"
        );
    }
    Ok(report.admitted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;
    use serde_json::json;
    use ticketing::domain::ids::UserId;
    use ticketing::domain::now_ms;
    use ticketing::domain::queue::QueuePosition;
    use ticketing::testing::TestApp;

    fn scheduled_event(max_seconds: u64) -> LambdaEvent<Value> {
        let mut context = Context::default();
        context.deadline = now_ms() + 60_000;
        let payload = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {"maxSeconds": max_seconds}});
        LambdaEvent::new(payload, context)
    }

    #[tokio::test]
    async fn one_invocation_admits_every_tick_until_its_deadline() {
        let app = TestApp::spawn_with(|c| {
            c.admit_per_tick = 3;
            c.tick = std::time::Duration::from_millis(200);
        })
        .await;
        let mut tickets = Vec::new();
        for _ in 0..50 {
            tickets.push(app.store.queue.issue_ticket(&UserId::random(), now_ms()).await.unwrap().0);
        }
        let out = handle(&app, scheduled_event(1)).await.unwrap();
        let ticks = out["ticks"].as_u64().unwrap();
        assert!(ticks >= 3, "{out}");
        assert_eq!(out["admitted"].as_u64().unwrap(), 3 * ticks);
        assert!(matches!(app.store.queue.position(&tickets[0], now_ms()).await.unwrap(), QueuePosition::Active { .. }));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn overlapping_invocations_do_not_admit_twice_in_a_tick() {
        let app = TestApp::spawn_with(|c| {
            c.admit_per_tick = 2;
            c.tick = std::time::Duration::from_millis(200);
        })
        .await;
        for _ in 0..200 {
            app.store.queue.issue_ticket(&UserId::random(), now_ms()).await.unwrap();
        }
        let (a, b) = tokio::join!(handle(&app, scheduled_event(1)), handle(&app, scheduled_event(1)));
        let (a, b) = (a.unwrap(), b.unwrap());
        let admitted = a["admitted"].as_u64().unwrap() + b["admitted"].as_u64().unwrap();
        let most_ticks = a["ticks"].as_u64().unwrap().max(b["ticks"].as_u64().unwrap());
        // Each tick number admits at most 2, and both ran over the same span of tick numbers.
        assert!(admitted <= 2 * (most_ticks + 1), "admitted {admitted} in {most_ticks} ticks");
        assert!(admitted >= 2 * most_ticks.saturating_sub(1));
    }
}
