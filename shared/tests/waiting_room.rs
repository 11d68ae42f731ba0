//! The waiting room against the real Redis, with explicit clocks so nothing sleeps.

use futures::future::join_all;
use ticketing::domain::ids::UserId;
use ticketing::domain::now_ms;
use ticketing::domain::queue::QueuePosition;
use ticketing::domain::tokens::QueueTicket;
use ticketing::store::queue::Admission;
use ticketing::testing::TestApp;

const SETTINGS: Admission =
    Admission { admit_per_tick: 10, active_cap: 1_000, active_ttl_ms: 600_000, wait_idle_ms: 120_000, tick_ms: 1_000 };

async fn line_up(app: &TestApp, n: usize, now: u64) -> Vec<QueueTicket> {
    let mut tickets = Vec::new();
    for _ in 0..n {
        tickets.push(app.store.queue.issue_ticket(&UserId::random(), now).await.unwrap().0);
    }
    tickets
}

async fn position(app: &TestApp, t: &QueueTicket, now: u64) -> QueuePosition {
    app.store.queue.position(t, now).await.unwrap()
}

#[tokio::test]
async fn admission_is_first_come_first_served_and_nobody_moves_back() {
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    let tickets = line_up(&app, 30, t0).await;
    for (i, t) in tickets.iter().enumerate() {
        assert_eq!(position(&app, t, t0).await, QueuePosition::Waiting { position: i as u64 + 1, admitted_per_second: None });
    }
    let report = app.store.queue.admission_tick(1, t0, SETTINGS).await.unwrap();
    assert_eq!((report.admitted, report.still_waiting), (10, 20));
    for (i, t) in tickets.iter().enumerate() {
        match position(&app, t, t0).await {
            QueuePosition::Active { .. } => assert!(i < 10, "ticket {i} admitted out of order"),
            QueuePosition::Waiting { position, .. } => assert_eq!(position, i as u64 - 9),
            QueuePosition::Expired => panic!("ticket {i} expired"),
        }
    }
    // Late arrivals queue behind everyone already waiting.
    let late = line_up(&app, 1, t0).await;
    assert!(matches!(position(&app, &late[0], t0).await, QueuePosition::Waiting { position: 21, .. }));
}

#[tokio::test]
async fn a_user_gets_their_live_ticket_back_never_a_second_place() {
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    let user = UserId::random();
    let (first, created) = app.store.queue.issue_ticket(&user, t0).await.unwrap();
    assert!(created);
    let (again, created) = app.store.queue.issue_ticket(&user, t0 + 5).await.unwrap();
    assert_eq!((again.number, created), (first.number, false));
    app.store.queue.admission_tick(1, t0, Admission { active_ttl_ms: 1_000, ..SETTINGS }).await.unwrap();
    let (while_active, created) = app.store.queue.issue_ticket(&user, t0 + 10).await.unwrap();
    assert_eq!((while_active.number, created), (first.number, false));
    // Once ACTIVE time is over the ticket is EXPIRED and a new one starts at the back.
    assert_eq!(position(&app, &first, t0 + 1_000).await, QueuePosition::Expired);
    let (next, created) = app.store.queue.issue_ticket(&user, t0 + 1_000).await.unwrap();
    assert!(created && next.number > first.number);
}

#[tokio::test]
async fn active_users_never_exceed_the_cap() {
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    let tickets = line_up(&app, 12, t0).await;
    let capped = Admission { active_cap: 5, ..SETTINGS };
    assert_eq!(app.store.queue.admission_tick(1, t0, capped).await.unwrap().admitted, 5);
    assert_eq!(app.store.queue.admission_tick(2, t0 + 1_000, capped).await.unwrap().admitted, 0);
    // A payment ends a ticket: its slot goes to the next in line.
    app.store.queue.end_ticket(&tickets[0]).await.unwrap();
    assert_eq!(app.store.queue.admission_tick(3, t0 + 2_000, capped).await.unwrap().admitted, 1);
    assert!(matches!(position(&app, &tickets[5], t0 + 2_000).await, QueuePosition::Active { .. }));
    assert!(matches!(position(&app, &tickets[6], t0 + 2_000).await, QueuePosition::Waiting { position: 1, .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_invocations_admit_once_per_tick() {
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    line_up(&app, 100, t0).await;
    let runs = join_all((0..8).map(|_| app.store.queue.admission_tick(7, t0, SETTINGS))).await;
    let admitted: u64 = runs.iter().map(|r| r.as_ref().unwrap().admitted).sum();
    assert_eq!(admitted, 10);
    assert_eq!(runs.iter().filter(|r| r.as_ref().unwrap().ran).count(), 1);
    // An older tick number (a late invocation) does nothing either.
    assert!(!app.store.queue.admission_tick(6, t0, SETTINGS).await.unwrap().ran);
}

#[tokio::test]
async fn abandoned_places_are_dropped_and_polled_ones_kept() {
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    let tickets = line_up(&app, 3, t0).await;
    let idle = Admission { admit_per_tick: 1, wait_idle_ms: 10_000, ..SETTINGS };
    // Ticket 1 is admitted at once; ticket 2 keeps polling; ticket 3 walks away.
    app.store.queue.admission_tick(1, t0, idle).await.unwrap();
    position(&app, &tickets[1], t0 + 9_000).await;
    let report = app.store.queue.admission_tick(2, t0 + 10_001, Admission { admit_per_tick: 0, ..idle }).await;
    // admit_per_tick 0 is not a valid setting, but the script must still only drop.
    let report = report.unwrap();
    assert_eq!(report.dropped_idle, 1);
    assert_eq!(position(&app, &tickets[2], t0 + 10_001).await, QueuePosition::Expired);
    assert!(matches!(position(&app, &tickets[1], t0 + 10_001).await, QueuePosition::Waiting { position: 1, .. }));
}

#[tokio::test]
async fn the_eta_comes_from_the_observed_admission_rate() {
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    let tickets = line_up(&app, 100, t0).await;
    let slow = Admission { admit_per_tick: 4, ..SETTINGS };
    for tick in 0..5 {
        app.store.queue.admission_tick(tick + 1, t0 + tick * 1_000, slow).await.unwrap();
    }
    let QueuePosition::Waiting { position, admitted_per_second } = position(&app, &tickets[99], t0 + 5_000).await else {
        panic!("still waiting");
    };
    assert_eq!(position, 80);
    let rate = admitted_per_second.expect("a rate was observed");
    assert!((rate - 4.0).abs() < 1e-9, "rate {rate}");
    assert_eq!(ticketing::domain::queue::eta_seconds(position, Some(rate)), Some(20));
}
