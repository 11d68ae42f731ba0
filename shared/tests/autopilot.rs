//! The autopilot and the idle-ACTIVE timeout against a real Redis: the signal the booking path
//! writes, the tick reading it, deciding, limiting admission and logging, the operator's switch,
//! and admitted fans who vanish giving their slots back.

use std::time::Duration;

use ticketing::api::RoomReport;
use ticketing::domain::admin::RoomUpdateRequest;
use ticketing::domain::autopilot::Reason;
use ticketing::domain::challenge::Door;
use ticketing::domain::inputs::SeatPage;
use ticketing::domain::now_ms;
use ticketing::domain::queue::{Inventory, QueuePosition, ADMITTED_NO_SHOW_MS};
use ticketing::store::queue::Admission;
use ticketing::testing::TestApp;

async fn on_autopilot() -> TestApp {
    TestApp::spawn_with(|c| {
        c.admission.autopilot = true;
        c.admission.admit_per_tick = 100;
        c.admission.target_p95_ms = 50;
    })
    .await
}

#[tokio::test]
async fn the_tick_reads_the_booking_paths_health_decides_limits_admission_and_logs_it() {
    let app = on_autopilot().await;
    let concert = app.concert(1_000, 100).await;
    let c = &concert.concert_id;
    for _ in 0..60 {
        app.waiting_user(0).await;
    }

    // No signal yet: the start limit, a fifth of the ceiling (100 a tick).
    let report = app.tick(c).await;
    assert_eq!(report.admitted, 20, "{report:?}");

    // The booking path answers slowly for a second: the next tick cuts.
    let last_second = now_ms() - 1_000;
    for _ in 0..30 {
        app.store.health.record(c, Duration::from_millis(200), false, last_second).await.unwrap();
    }
    let inputs = app.store.queue.autopilot_inputs(c, now_ms()).await.unwrap();
    assert_eq!(inputs.health.answers, 30, "the tick sees what the functions counted");
    assert!(inputs.health.p95_ms().unwrap() > 100.0);
    let report = app.tick(c).await;
    assert!(report.admitted < 20 && report.admitted >= 10, "cut by at most half: {report:?}");

    let view = app.store.room_view(c, now_ms()).await.unwrap();
    let room = RoomReport::new(view, now_ms(), app.admission());
    let (newest, first) = (&room.autopilot.decisions[0], &room.autopilot.decisions[1]);
    assert_eq!((first.decision.reason, first.decision.limit), (Reason::Start, 20));
    assert_eq!(newest.decision.reason, Reason::OverTarget);
    assert_eq!(newest.decision.previous, 20);
    assert_eq!(room.autopilot.limit, Some(newest.decision.limit));
    assert!(room.autopilot.on && room.autopilot.target_p95_ms == 50);
    assert!(room.autopilot.measured_p95_ms.unwrap() > 100.0, "{:?}", room.autopilot);

    // The operator turns it off: the room admits its admitPerTick again, and nothing is logged.
    let off = RoomUpdateRequest { autopilot: Some(false), admit_per_tick: Some(7), ..Default::default() };
    app.store.queue.update(c, &off.validate().unwrap(), now_ms()).await.unwrap();
    let report = app.tick(c).await;
    assert_eq!(report.admitted, 7);
    let decisions = app.store.queue.decisions(c, 10).await.unwrap();
    assert_eq!(decisions.len(), 2, "no decision while off");
}

#[tokio::test]
async fn a_room_set_to_a_target_of_its_own_is_judged_against_it() {
    let app = on_autopilot().await;
    let concert = app.concert(1_000, 100).await;
    let c = &concert.concert_id;
    for _ in 0..30 {
        app.waiting_user(0).await;
    }
    let target = RoomUpdateRequest { target_p95_ms: Some(500), ..Default::default() };
    app.store.queue.update(c, &target.validate().unwrap(), now_ms()).await.unwrap();
    app.tick(c).await;
    for _ in 0..30 {
        app.store.health.record(c, Duration::from_millis(200), false, now_ms() - 1_000).await.unwrap();
    }
    app.tick(c).await;
    let newest = app.store.queue.decisions(c, 1).await.unwrap()[0];
    assert_ne!(newest.decision.reason, Reason::OverTarget, "200 ms is within a 500 ms target: {newest:?}");
    let bad = RoomUpdateRequest { target_p95_ms: Some(0), ..Default::default() };
    assert!(bad.validate().is_err());
}

/// Admission by hand (10 a tick), with the given idle time for ACTIVE fans.
fn by_hand(active_idle_ms: u64) -> Admission {
    Admission {
        admit_per_tick: 10,
        active_cap: 100,
        overbooking: 1.5,
        active_ttl_ms: 600_000,
        wait_idle_ms: 120_000,
        wait_abandon_ms: 900_000,
        tick_ms: 1_000,
        hold_ms: 300_000,
        step: 1_000,
        active_idle_ms,
        autopilot: false,
        target_p95_ms: 50,
        door: Door { min_bits: 0, max_bits: 0 },
    }
}

#[tokio::test]
async fn admitted_fans_who_do_nothing_give_their_slots_back_and_busy_ones_keep_them() {
    let app = TestApp::spawn().await;
    let concert = app.concert(100, 100).await;
    let c = &concert.concert_id;
    let (idle, busy) = (app.waiting_user(0).await, app.waiting_user(0).await);
    let settings = by_hand(10_000);
    let plenty = Inventory { seats: 100, sold: 0, held: 0, fans_holding: 0, holds_to_sell: None };
    let t0 = now_ms();
    assert_eq!(app.store.queue.tick(c, 1, t0, settings, plenty, None).await.unwrap().admitted, 2);

    // The busy fan lists seats 8 s later: seen on the booking path.
    let schedule = &concert.schedules[0].schedule_id;
    let page = SeatPage { from: 1, limit: 10 };
    app.store.booking.seat_page(busy.ticket.as_ref().unwrap(), c, schedule, page, t0 + 8_000).await.unwrap();

    let report = app.store.queue.tick(c, 2, t0 + 11_000, settings, plenty, None).await.unwrap();
    assert_eq!((report.expired_active, report.active), (1, 1), "{report:?}");
    let snapshot = app.store.queue.snapshot(c, t0 + 11_000).await.unwrap();
    assert_eq!((snapshot.idle_active_total, snapshot.no_shows_total), (1, 1), "it never came after its admission");
    let kept = app.store.booking.seat_page(busy.ticket.as_ref().unwrap(), c, schedule, page, t0 + 11_000).await;
    assert!(kept.is_ok(), "the busy fan is still ACTIVE");
    let gone = app.store.booking.seat_page(idle.ticket.as_ref().unwrap(), c, schedule, page, t0 + 11_000).await;
    assert_eq!(gone.unwrap_err().to_string(), "refused: the queue token has ended; take a new one");
}

#[tokio::test]
async fn an_admitted_fan_who_never_shows_up_gives_the_slot_back_before_the_idle_time() {
    let app = TestApp::spawn().await;
    let concert = app.concert(100, 100).await;
    let c = &concert.concert_id;
    let (gone, came) = (app.waiting_user(0).await, app.waiting_user(0).await);
    let settings = by_hand(120_000);
    let plenty = Inventory { seats: 100, sold: 0, held: 0, fans_holding: 0, holds_to_sell: None };
    let t0 = now_ms();
    assert_eq!(app.store.queue.tick(c, 1, t0, settings, plenty, None).await.unwrap().admitted, 2);

    // One fan comes back at its next poll and is told ACTIVE; the other closed the tab in line.
    let status = app.store.queue.position(came.ticket.as_ref().unwrap(), t0 + 20_000).await.unwrap();
    assert!(matches!(status, QueuePosition::Active { .. }), "{status:?}");

    let before = app.store.queue.tick(c, 2, t0 + ADMITTED_NO_SHOW_MS - 1_000, settings, plenty, None).await.unwrap();
    assert_eq!((before.expired_active, before.active), (0, 2), "nobody is given back within the grace: {before:?}");
    let after = app.store.queue.tick(c, 3, t0 + ADMITTED_NO_SHOW_MS + 1_000, settings, plenty, None).await.unwrap();
    assert_eq!((after.expired_active, after.active), (1, 1), "the no-show's slot went back: {after:?}");
    let snapshot = app.store.queue.snapshot(c, t0 + ADMITTED_NO_SHOW_MS + 1_000).await.unwrap();
    assert_eq!((snapshot.idle_active_total, snapshot.no_shows_total), (1, 1));
    assert!(ADMITTED_NO_SHOW_MS < settings.active_idle_ms);
    let schedule = &concert.schedules[0].schedule_id;
    let page = SeatPage { from: 1, limit: 10 };
    let kept = app.store.booking.seat_page(came.ticket.as_ref().unwrap(), c, schedule, page, t0 + ADMITTED_NO_SHOW_MS + 2_000).await;
    assert!(kept.is_ok(), "the fan who came back keeps the slot for the whole idle time");
    let refused = app.store.booking.seat_page(gone.ticket.as_ref().unwrap(), c, schedule, page, t0 + ADMITTED_NO_SHOW_MS + 2_000).await;
    assert!(refused.is_err());
}
