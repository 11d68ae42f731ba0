//! Scheduled: one admission tick of every waiting room with fans in it, every tick until the
//! invocation's deadline. `main.rs` runs this handler on Lambda; the local gateway calls it
//! in-process.

use lambda_runtime::{Error, LambdaEvent};
use serde_json::Value;
use ticketing::domain::now_ms;
use ticketing::metrics::{Line, Unit};
use ticketing::schedule::{every_tick, tick_start};
use ticketing::store::StoreError;
use ticketing::App;

/// Admits waiting fans of every live room once per tick until the invocation's deadline. The
/// schedule fires every minute; each tick is numbered by the clock, so overlapping invocations
/// admit once per tick per room. Rooms nobody is in cost nothing.
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(every_tick(app, &event, "admitted", |now| admit(app, now)).await)
}

async fn admit(app: &App, now: u64) -> Result<u64, StoreError> {
    let tick_ms = app.config.admission.tick.as_millis() as u64;
    let started = tick_start(now, tick_ms);
    let report = app.store.tick_live_rooms(started, now, app.admission()).await?;
    // For the dashboard and the alarms (`ticketing::metrics`): each room, and how late the tick
    // ended against the start of its period (a tick falling behind its period shows here first).
    let done = now_ms();
    for room in &report.each {
        Line::new(done)
            .dimension("Room", room.concert.as_str())
            .metric("Waiting", Unit::Count, room.waiting as f64)
            .metric("Active", Unit::Count, room.active as f64)
            .metric("Admitted", Unit::Count, room.admitted as f64)
            .metric("SeatsAvailable", Unit::Count, room.seats_available as f64)
            .emit();
    }
    Line::new(done).metric("TickLag", Unit::Milliseconds, done.saturating_sub(started) as f64).emit();
    if report.admitted + report.sold_out + report.retired > 0 {
        tracing::info!(
            rooms = report.rooms,
            admitted = report.admitted,
            sold_out = report.sold_out,
            retired = report.retired,
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
    use ticketing::domain::ids::{ConcertId, UserId};
    use ticketing::domain::now_ms;
    use ticketing::domain::queue::QueuePosition;
    use ticketing::domain::tokens::QueueTicket;
    use ticketing::testing::TestApp;

    fn scheduled_event(max_seconds: u64) -> LambdaEvent<Value> {
        let mut context = Context::default();
        context.deadline = now_ms() + 60_000;
        let payload = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {"maxSeconds": max_seconds}});
        LambdaEvent::new(payload, context)
    }

    async fn line_up(app: &TestApp, concert: &ConcertId, n: usize) -> Vec<QueueTicket> {
        let mut tickets = Vec::new();
        for _ in 0..n {
            tickets.push(app.store.queue.join(&UserId::random(), concert, now_ms()).await.unwrap().ticket);
        }
        tickets
    }

    #[tokio::test]
    async fn one_invocation_admits_every_tick_until_its_deadline() {
        let app = TestApp::spawn_with(|c| {
            c.admission.admit_per_tick = 3;
            c.admission.tick = std::time::Duration::from_millis(200);
        })
        .await;
        let concert = app.concert(1_000, 1_000).await;
        let tickets = line_up(&app, &concert.concert_id, 50).await;
        let out = handle(&app, scheduled_event(1)).await.unwrap();
        let ticks = out["ticks"].as_u64().unwrap();
        assert!(ticks >= 3, "{out}");
        assert_eq!(out["admitted"].as_u64().unwrap(), 3 * ticks);
        assert!(matches!(app.store.queue.position(&tickets[0], now_ms()).await.unwrap(), QueuePosition::Active { .. }));
    }

    #[tokio::test]
    async fn every_live_room_is_ticked_and_empty_ones_are_retired() {
        let app = TestApp::spawn_with(|c| {
            c.admission.admit_per_tick = 2;
            c.admission.tick = std::time::Duration::from_millis(50);
        })
        .await;
        let busy = app.concert(100, 1_000).await;
        let small = app.concert(100, 1_000).await;
        app.concert(100, 1_000).await; // a third room nobody joins
        let busy_line = line_up(&app, &busy.concert_id, 5).await;
        let small_line = line_up(&app, &small.concert_id, 1).await;
        let mut live = app.store.queue.live_rooms().await.unwrap();
        live.sort();
        let mut expected = vec![busy.concert_id.clone(), small.concert_id.clone()];
        expected.sort();
        assert_eq!(live, expected, "a room nobody joined is not live");

        let out = handle(&app, scheduled_event(0)).await.unwrap();
        assert_eq!(out["admitted"], 3, "two from the busy room, one from the small one: {out}");
        assert!(matches!(app.store.queue.position(&small_line[0], now_ms()).await.unwrap(), QueuePosition::Active { .. }));
        assert!(matches!(app.store.queue.position(&busy_line[2], now_ms()).await.unwrap(), QueuePosition::Waiting { position: 1, .. }));
        // The small room's only fan leaves: the next tick finds it empty and retires it.
        app.store.queue.leave(&small_line[0]).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(60)).await;
        handle(&app, scheduled_event(0)).await.unwrap();
        assert_eq!(app.store.queue.live_rooms().await.unwrap(), vec![busy.concert_id.clone()]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn overlapping_invocations_do_not_admit_twice_in_a_tick() {
        let app = TestApp::spawn_with(|c| {
            c.admission.admit_per_tick = 2;
            c.admission.tick = std::time::Duration::from_millis(200);
        })
        .await;
        let concert = app.concert(1_000, 1_000).await;
        line_up(&app, &concert.concert_id, 200).await;
        let (a, b) = tokio::join!(handle(&app, scheduled_event(1)), handle(&app, scheduled_event(1)));
        let (a, b) = (a.unwrap(), b.unwrap());
        let admitted = a["admitted"].as_u64().unwrap() + b["admitted"].as_u64().unwrap();
        let most_ticks = a["ticks"].as_u64().unwrap().max(b["ticks"].as_u64().unwrap());
        // Each tick number admits at most 2, and both ran over the same span of tick numbers.
        assert!(admitted <= 2 * (most_ticks + 1), "admitted {admitted} in {most_ticks} ticks");
        assert!(admitted >= 2 * most_ticks.saturating_sub(1));
    }
}
