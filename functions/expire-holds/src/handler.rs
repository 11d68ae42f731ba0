//! Scheduled: releases seats whose hold ran out, every tick until the deadline.
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;
use ticketing::schedule::every_tick;
use ticketing::store::StoreError;
use ticketing::App;

/// Releases the seats of lapsed holds, once per tick until the deadline, and finishes payments
/// that a crash left between their steps. The first tick of an invocation visits every schedule
/// (and heals the list of schedules with holds); the others only the schedules on that list, so
/// the cost follows live holds, not schedules ever created.
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, Error> {
    let mut first = true;
    Ok(every_tick(app, &event, "released", |now| sweep(app, now, std::mem::replace(&mut first, false))).await)
}

async fn sweep(app: &App, now: u64, full: bool) -> Result<u64, StoreError> {
    let report = if full { app.store.sweep_all(now).await? } else { app.store.sweep_live(now).await? };
    if report.released + report.settled_paid + report.settled_void > 0 {
        tracing::info!(
            released = report.released,
            settled_paid = report.settled_paid,
            settled_void = report.settled_void,
            "swept lapsed holds"
        );
    }
    Ok(report.released + report.settled_void)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;
    use serde_json::json;
    use ticketing::domain::inputs::SeatNumber;
    use ticketing::domain::models::SeatStatus;
    use ticketing::domain::now_ms;
    use ticketing::testing::policies::*;
    use ticketing::testing::TestApp;

    #[tokio::test]
    async fn lapsed_holds_are_released_and_live_ones_kept() {
        let app = TestApp::spawn().await;
        let concert = app.concert(5, 1_000).await;
        let schedule = concert.schedules[0].schedule_id.clone();
        let user = app.admitted_user(0).await;
        let ticket = user.ticket.clone().unwrap();
        app.store.booking.hold(&ticket, &schedule, SeatNumber::parse(1).unwrap(), now_ms(), LAPSING_HOLD).await.unwrap();
        app.store.booking.hold(&ticket, &schedule, SeatNumber::parse(2).unwrap(), now_ms(), MINUTE_HOLD).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;

        let mut context = Context::default();
        context.deadline = now_ms() + 60_000;
        let out = handle(&app, LambdaEvent::new(json!({"detail": {"maxSeconds": 0}}), context)).await.unwrap();
        assert_eq!((out["ticks"].as_u64(), out["released"].as_u64()), (Some(1), Some(1)));

        let seats = app.store.booking.seat_map(&ticket, &concert.concert_id.clone(), &schedule, now_ms()).await.unwrap();
        assert_eq!((seats[0].status, seats[1].status), (SeatStatus::Available, SeatStatus::Held));
        // Swept once: a second sweep finds nothing.
        assert_eq!(app.store.sweep_all(now_ms()).await.unwrap().released, 0);
    }
}
