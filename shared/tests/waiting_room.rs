//! The waiting rooms against the real Redis, with explicit clocks and inventories so nothing
//! sleeps: order, lottery, admission that knows the inventory, sold out, pause, leaving.

use futures::future::join_all;
use ticketing::domain::admin::RoomUpdateRequest;
use ticketing::domain::challenge::Door;
use ticketing::domain::ids::{ConcertId, UserId};
use ticketing::domain::inputs::SeatNumber;
use ticketing::domain::now_ms;
use ticketing::domain::queue::{Chance, Inventory, LineAhead, QueuePosition};
use ticketing::domain::tokens::QueueTicket;
use ticketing::store::booking::HoldPolicy;
use ticketing::store::queue::{Admission, Joined, Left};
use ticketing::testing::policies::*;
use ticketing::testing::{ErrorCodeOf, TestApp};

const SETTINGS: Admission = Admission {
    admit_per_tick: 10,
    active_cap: 1_000,
    overbooking: 1.5,
    active_ttl_ms: 600_000,
    wait_idle_ms: 120_000,
    wait_abandon_ms: 900_000,
    tick_ms: 1_000,
    hold_ms: 300_000,
    step: 2_000,
    active_idle_ms: 600_000,
    autopilot: false,
    target_p95_ms: 50,
    door: Door { min_bits: 0, max_bits: 0 },
};

/// Plenty of seats: admission limited by the room's own settings only.
const PLENTY: Inventory = Inventory { seats: 100_000, sold: 0, held: 0, fans_holding: 0, holds_to_sell: None };

async fn line_up(app: &TestApp, concert: &ConcertId, n: usize, now: u64) -> Vec<QueueTicket> {
    let mut tickets = Vec::new();
    for _ in 0..n {
        tickets.push(app.store.queue.join(&UserId::random(), concert, now).await.unwrap().ticket);
    }
    tickets
}

async fn position(app: &TestApp, t: &QueueTicket, now: u64) -> QueuePosition {
    app.store.queue.position(t, now).await.unwrap()
}

async fn room(app: &TestApp) -> ConcertId {
    app.concert(10, 1_000).await.concert_id
}

#[tokio::test]
async fn admission_is_first_come_first_served_and_nobody_moves_back() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 30, t0).await;
    for (i, t) in tickets.iter().enumerate() {
        let expected = QueuePosition::Waiting { position: i as u64 + 1, line: LineAhead::default(), paused: false, place: i as u64 + 1 };
        assert_eq!(position(&app, t, t0).await, expected);
    }
    let report = app.store.queue.tick(&c, 1, t0, SETTINGS, PLENTY, None).await.unwrap();
    assert_eq!((report.admitted, report.still_waiting, report.active), (10, 20, 10));
    let line = app.store.queue.line(&c).await.unwrap();
    assert_eq!((line.admitted_total, line.waiting, line.admit_per_tick), (10, 20, None));
    for (i, t) in tickets.iter().enumerate() {
        match position(&app, t, t0).await {
            QueuePosition::Active { .. } => assert!(i < 10, "ticket {i} admitted out of order"),
            QueuePosition::Waiting { position, place, .. } => {
                assert_eq!(position, i as u64 - 9);
                // The place does not move; the public admitted total gives the position back.
                assert_eq!((place, place - line.admitted_total), (i as u64 + 1, position));
            }
            other => panic!("ticket {i}: {other:?}"),
        }
    }
    // Late arrivals queue behind everyone already waiting.
    let late = line_up(&app, &c, 1, t0).await;
    assert!(matches!(position(&app, &late[0], t0).await, QueuePosition::Waiting { position: 21, .. }));
}

/// A tick admitting more than a step takes several calls of the script, each moving at most a
/// step, and still admits its exact total, in line order, once: also when five invocations run
/// the same tick at once, or it is run again afterwards.
#[tokio::test]
async fn a_tick_larger_than_a_step_admits_its_exact_total_in_order_in_several_calls() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 120, t0).await;
    let stepped = Admission { admit_per_tick: 50, step: 7, ..SETTINGS };
    let report = app.store.queue.tick(&c, 1, t0, stepped, PLENTY, None).await.unwrap();
    assert_eq!((report.admitted, report.steps, report.still_waiting, report.active), (50, 8, 70, 50));
    assert_eq!(app.store.queue.tick(&c, 1, t0, stepped, PLENTY, None).await.unwrap().admitted, 0, "a tick runs once");
    let reports = join_all((0..5).map(|_| app.store.queue.tick(&c, 2, t0 + 1_000, stepped, PLENTY, None))).await;
    let admitted: u64 = reports.into_iter().map(|r| r.unwrap().admitted).sum();
    assert_eq!(admitted, 50, "five concurrent runs of one tick share its budget");
    for (i, t) in tickets.iter().enumerate() {
        match position(&app, t, t0 + 1_000).await {
            QueuePosition::Active { .. } => assert!(i < 100, "ticket {i} admitted out of order"),
            QueuePosition::Waiting { position, .. } => assert_eq!(position, i as u64 - 99),
            other => panic!("ticket {i}: {other:?}"),
        }
    }
    // The rate fans see counts the whole tick, not its last step.
    let QueuePosition::Waiting { line, .. } = position(&app, &tickets[119], t0 + 1_000).await else { panic!() };
    assert_eq!(line.admitted_per_second, Some(50.0));
    // An operator's setting far above the environment's defaults takes as many steps as it needs.
    let more = RoomUpdateRequest { admit_per_tick: Some(20), active_cap: Some(1_000), ..Default::default() }.validate().unwrap();
    app.store.queue.update(&c, &more, t0 + 1_000).await.unwrap();
    let small_defaults = Admission { admit_per_tick: 1, active_cap: 1, step: 3, ..SETTINGS };
    let report = app.store.queue.tick(&c, 3, t0 + 2_000, small_defaults, PLENTY, None).await.unwrap();
    assert_eq!((report.admitted, report.steps), (20, 7));
}

#[tokio::test]
async fn a_user_gets_their_live_ticket_back_never_a_second_place() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let user = UserId::random();
    let Joined { ticket: first, created } = app.store.queue.join(&user, &c, t0).await.unwrap();
    assert!(created);
    let Joined { ticket: again, created } = app.store.queue.join(&user, &c, t0 + 5).await.unwrap();
    assert_eq!((again.number, created), (first.number, false));
    app.store.queue.tick(&c, 1, t0, Admission { active_ttl_ms: 1_000, ..SETTINGS }, PLENTY, None).await.unwrap();
    let Joined { ticket: while_active, created } = app.store.queue.join(&user, &c, t0 + 10).await.unwrap();
    assert_eq!((while_active.number, created), (first.number, false));
    // Once ACTIVE time is over the ticket is EXPIRED and a new one starts at the back.
    assert_eq!(position(&app, &first, t0 + 1_000).await, QueuePosition::Expired);
    let Joined { ticket: next, created } = app.store.queue.join(&user, &c, t0 + 1_000).await.unwrap();
    assert!(created && next.number > first.number);
    // A place in another concert's room is another place.
    let other = room(&app).await;
    let Joined { ticket: elsewhere, created } = app.store.queue.join(&user, &other, t0 + 1_000).await.unwrap();
    assert!(created);
    assert_eq!(elsewhere.concert, other);
}

#[tokio::test]
async fn active_users_never_exceed_the_cap() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 12, t0).await;
    let capped = Admission { active_cap: 5, ..SETTINGS };
    assert_eq!(app.store.queue.tick(&c, 1, t0, capped, PLENTY, None).await.unwrap().admitted, 5);
    assert_eq!(app.store.queue.tick(&c, 2, t0 + 1_000, capped, PLENTY, None).await.unwrap().admitted, 0);
    // A payment ends a ticket: its slot goes to the next in line.
    app.store.queue.leave(&tickets[0]).await.unwrap();
    assert_eq!(app.store.queue.tick(&c, 3, t0 + 2_000, capped, PLENTY, None).await.unwrap().admitted, 1);
    assert!(matches!(position(&app, &tickets[5], t0 + 2_000).await, QueuePosition::Active { .. }));
    assert!(matches!(position(&app, &tickets[6], t0 + 2_000).await, QueuePosition::Waiting { position: 1, .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_invocations_admit_once_per_tick() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    line_up(&app, &c, 100, t0).await;
    let runs = join_all((0..8).map(|_| app.store.queue.tick(&c, 7, t0, SETTINGS, PLENTY, None))).await;
    let admitted: u64 = runs.iter().map(|r| r.as_ref().unwrap().admitted).sum();
    assert_eq!(admitted, 10);
    assert_eq!(runs.iter().filter(|r| r.as_ref().unwrap().ran).count(), 1);
    // An older tick number (a late invocation) does nothing either.
    assert!(!app.store.queue.tick(&c, 6, t0, SETTINGS, PLENTY, None).await.unwrap().ran);
}

/// The observed rate decays while the line does not move (no budget: here admitPerTick 0, as when
/// the ACTIVE cap is full or every seat is held), and below one admission in about 17 minutes it
/// is 0: fans and the public state see "no rate", not 1e-21. Once the line moves again the first
/// sample is the rate, not a fifth of it.
#[tokio::test]
async fn a_rate_that_decayed_to_nothing_is_zero() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 2, t0).await;
    app.store.queue.tick(&c, 1, t0, Admission { admit_per_tick: 1, ..SETTINGS }, PLENTY, None).await.unwrap();
    let rate = |p: QueuePosition| match p {
        QueuePosition::Waiting { line, .. } => line.admitted_per_second,
        other => panic!("{other:?}"),
    };
    assert_eq!(rate(position(&app, &tickets[1], t0).await), Some(1.0));
    let stalled = Admission { admit_per_tick: 0, ..SETTINGS };
    for tick in 2..=20 {
        app.store.queue.tick(&c, tick, t0 + tick * 1_000, stalled, PLENTY, None).await.unwrap();
    }
    let decayed = rate(position(&app, &tickets[1], t0 + 20_000).await).unwrap();
    assert!(decayed > 0.001 && decayed < 0.02, "0.8^19 of 1/s: {decayed}");
    for tick in 21..=200 {
        app.store.queue.tick(&c, tick, t0 + tick * 1_000, stalled, PLENTY, None).await.unwrap();
    }
    assert_eq!(rate(position(&app, &tickets[1], t0 + 200_000).await), Some(0.0));
    let moving = Admission { admit_per_tick: 2, ..SETTINGS };
    let later = line_up(&app, &c, 3, t0 + 200_000).await;
    app.store.queue.tick(&c, 201, t0 + 201_000, moving, PLENTY, None).await.unwrap();
    assert_eq!(rate(position(&app, &later[2], t0 + 201_000).await), Some(2.0));
}

/// Far from the front a place is dropped only once unseen for `wait_abandon`: a fan following the
/// public room state polls its own status rarely. Wherever it stands, past that it is dropped.
#[tokio::test]
async fn abandoned_places_are_dropped_and_polled_ones_kept() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 3, t0).await;
    let idle = Admission { admit_per_tick: 1, wait_idle_ms: 10_000, wait_abandon_ms: 20_000, ..SETTINGS };
    // Ticket 1 is admitted at once; ticket 2 keeps polling; ticket 3 walks away.
    app.store.queue.tick(&c, 1, t0, idle, PLENTY, None).await.unwrap();
    position(&app, &tickets[1], t0 + 9_000).await;
    let paused = Admission { admit_per_tick: 0, ..idle };
    let report = app.store.queue.tick(&c, 2, t0 + 10_001, paused, PLENTY, None).await.unwrap();
    assert_eq!(report.dropped_idle, 0, "unseen for wait_idle only: kept while it is not its turn");
    // Last-seen times are kept to the second, and a place is dropped only once surely unseen
    // since the cutoff: at most a second late, never early.
    let report = app.store.queue.tick(&c, 3, t0 + 20_001, paused, PLENTY, None).await.unwrap();
    assert!(report.dropped_idle <= 1);
    let report = app.store.queue.tick(&c, 4, t0 + 21_000, paused, PLENTY, None).await.unwrap();
    assert_eq!(app.store.queue.snapshot(&c, t0 + 21_000).await.unwrap().dropped_total, 1, "{report:?}");
    assert_eq!(position(&app, &tickets[2], t0 + 21_000).await, QueuePosition::Expired);
    assert!(matches!(position(&app, &tickets[1], t0 + 21_000).await, QueuePosition::Waiting { position: 1, .. }));
}

/// The abandoned places are found four steps of ticket numbers per tick, from a cursor that goes
/// round the numbers issued: within (issued / 4 steps) ticks every one is dropped, and no polled
/// one.
#[tokio::test]
async fn the_abandoned_place_sweep_goes_round_the_whole_line_four_steps_per_tick() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 25, t0).await;
    let sweep = Admission { admit_per_tick: 0, wait_idle_ms: 10_000, wait_abandon_ms: 20_000, step: 2, ..SETTINGS };
    let polled = [2, 6, 17];
    for number in polled {
        position(&app, &tickets[number - 1], t0 + 15_000).await;
    }
    let mut dropped = Vec::new();
    for tick in 1..=4 {
        dropped.push(app.store.queue.tick(&c, tick, t0 + 21_000, sweep, PLENTY, None).await.unwrap().dropped_idle);
    }
    assert_eq!(dropped, vec![6, 8, 7, 1], "tickets 1-8, 9-16, 17-24, 25: the polled 2, 6 and 17 stay");
    let report = app.store.queue.tick(&c, 5, t0 + 21_000, sweep, PLENTY, None).await.unwrap();
    assert_eq!((report.dropped_idle, report.still_waiting), (0, 3), "round again from ticket 1: nothing more to drop");
    for (i, t) in tickets.iter().enumerate() {
        let waiting = matches!(position(&app, t, t0 + 21_000).await, QueuePosition::Waiting { .. });
        assert_eq!(waiting, polled.contains(&(i + 1)), "ticket {}", i + 1);
    }
}

/// When its turn comes a place must have been polled within `wait_idle`: an absent one is dropped
/// instead of taking an ACTIVE slot, and the tick admits the next present place in its stead.
#[tokio::test]
async fn a_place_whose_turn_comes_is_admitted_only_if_its_fan_is_still_there() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 4, t0).await;
    let two = Admission { admit_per_tick: 2, wait_idle_ms: 10_000, ..SETTINGS };
    // Fans 1, 3 and 4 poll (3 and 4 rarely, as the public state lets them); fan 2 left without
    // saying so.
    for t in [&tickets[0], &tickets[2], &tickets[3]] {
        position(&app, t, t0 + 5_000).await;
    }
    let report = app.store.queue.tick(&c, 1, t0 + 12_000, two, PLENTY, None).await.unwrap();
    assert_eq!((report.admitted, report.dropped_idle, report.still_waiting), (2, 1, 1));
    assert!(matches!(position(&app, &tickets[0], t0 + 12_000).await, QueuePosition::Active { .. }));
    assert_eq!(position(&app, &tickets[1], t0 + 12_000).await, QueuePosition::Expired);
    assert!(matches!(position(&app, &tickets[2], t0 + 12_000).await, QueuePosition::Active { .. }));
    assert!(matches!(position(&app, &tickets[3], t0 + 12_000).await, QueuePosition::Waiting { position: 1, .. }));
}

#[tokio::test]
async fn the_eta_comes_from_the_observed_admission_rate() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 100, t0).await;
    let slow = Admission { admit_per_tick: 4, ..SETTINGS };
    for tick in 0..5 {
        app.store.queue.tick(&c, tick + 1, t0 + tick * 1_000, slow, PLENTY, None).await.unwrap();
    }
    let QueuePosition::Waiting { position, line, place, .. } = position(&app, &tickets[99], t0 + 5_000).await else {
        panic!("still waiting");
    };
    assert_eq!(position, 80);
    let rate = line.admitted_per_second.expect("a rate was observed");
    assert!((rate - 4.0).abs() < 1e-9, "rate {rate}");
    assert_eq!((line.pace, line.bound_rate), (Some(4.0), None), "4 a tick, never held under it");
    assert_eq!(ticketing::domain::queue::eta_seconds(position, place, t0 + 5_000, &line), Some(20));
}

#[tokio::test]
async fn the_prequeue_is_drawn_in_one_random_order_ahead_of_later_arrivals() {
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    let concert = app.concert_opening(10, 1_000, t0 - 1_000, t0 + 10_000).await.concert_id;
    let early = line_up(&app, &concert, 20, t0).await;
    for t in &early {
        assert_eq!(position(&app, t, t0).await, QueuePosition::Prequeue { opens_at_ms: t0 + 10_000 });
    }
    // Before the opening a tick admits nobody.
    assert_eq!(app.store.queue.tick(&concert, 1, t0 + 5_000, SETTINGS, PLENTY, None).await.unwrap().admitted, 0);
    // After the opening, late fans keep joining while the first tick runs.
    let opening = t0 + 10_000;
    let (late, tick) =
        tokio::join!(line_up(&app, &concert, 10, opening), app.store.queue.tick(&concert, 2, opening, SETTINGS, PLENTY, None));
    assert_eq!(tick.unwrap().admitted, 10);
    let mut early_places = Vec::new();
    for t in &early {
        match position(&app, t, opening).await {
            QueuePosition::Active { .. } => early_places.push(0),
            QueuePosition::Waiting { position, .. } => early_places.push(position),
            other => panic!("{other:?}"),
        }
    }
    // The ten admitted are all from the pre-queue, the rest of it stands at places 1..=10, and
    // every late fan stands behind all of them, in arrival order.
    let mut waiting_early: Vec<u64> = early_places.iter().copied().filter(|p| *p > 0).collect();
    waiting_early.sort();
    assert_eq!(waiting_early, (1..=10).collect::<Vec<_>>());
    for (i, t) in late.iter().enumerate() {
        assert!(matches!(position(&app, t, opening).await, QueuePosition::Waiting { position, .. } if position == 11 + i as u64));
    }
    // Not sorted by arrival: some early arrival stands behind a later one.
    let arrival_order: Vec<u64> = early_places.clone();
    assert!(arrival_order.windows(2).any(|w| w[0] > w[1]), "{arrival_order:?}");
}

/// The pre-queue's lottery order scatters the ticket numbers a tick takes from the front, so their
/// last-seen times are read one by one rather than as one span: the absent are still dropped and
/// only the present admitted.
#[tokio::test]
async fn at_the_opening_only_present_fans_of_the_prequeue_are_admitted() {
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    let opening = t0 + 10_000;
    let concert = app.concert_opening(10, 1_000, t0 - 1_000, opening).await.concert_id;
    let early = line_up(&app, &concert, 400, t0).await;
    let present = |t: &QueueTicket| t.number.is_multiple_of(2);
    for t in early.iter().filter(|t| present(t)) {
        position(&app, t, opening + 5_000).await;
    }
    let twenty = Admission { admit_per_tick: 20, wait_idle_ms: 10_000, ..SETTINGS };
    let report = app.store.queue.tick(&concert, 1, opening + 12_000, twenty, PLENTY, None).await.unwrap();
    assert_eq!(report.admitted, 20);
    let (mut active, mut expired) = (0, 0);
    for t in &early {
        match position(&app, t, opening + 12_000).await {
            QueuePosition::Active { .. } => {
                assert!(present(t), "ticket {} was absent", t.number);
                active += 1;
            }
            QueuePosition::Expired => {
                assert!(!present(t), "ticket {} was present", t.number);
                expired += 1;
            }
            QueuePosition::Waiting { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((active, expired), (20, report.dropped_idle));
    assert!(expired > 0, "some absent fans stood ahead of the twentieth present one");
}

/// Over many openings, each arrival slot of the pre-queue lands in each place about equally
/// often: a fair shuffle, not a bias toward early (or late) arrivals.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_lottery_is_a_fair_shuffle() {
    const FANS: usize = 5;
    const OPENINGS: usize = 400;
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    let mut counts = [[0u32; FANS]; FANS];
    let runs = join_all((0..OPENINGS).map(|_| async {
        let concert = app.concert_opening(10, 1_000, t0 - 1_000, t0 + 1_000).await.concert_id;
        let tickets = line_up(&app, &concert, FANS, t0).await;
        // The first tick after the opening draws the order (and admits nobody here).
        app.store.queue.tick(&concert, 1, t0 + 1_000, Admission { admit_per_tick: 0, ..SETTINGS }, PLENTY, None).await.unwrap();
        let mut places = Vec::new();
        for t in &tickets {
            let QueuePosition::Waiting { position, .. } = position(&app, t, t0 + 1_000).await else { panic!() };
            places.push(position as usize - 1);
        }
        places
    }))
    .await;
    for places in runs {
        for (arrival, place) in places.into_iter().enumerate() {
            counts[arrival][place] += 1;
        }
    }
    // Pearson's statistic over the 25 cells. Each opening adds a whole permutation, so a cell's
    // count varies as Binomial(400, 1/5) (variance 64, not 80) and the statistic scaled by
    // (FANS - 1) / FANS follows chi-square with 16 degrees of freedom: above 39.25 once in a
    // thousand runs of a fair shuffle (unscaled, the threshold failed one run in eighty). A
    // shuffle that kept arrival order would score 1,280.
    let expected = (OPENINGS / FANS) as f64;
    let pearson: f64 = counts.iter().flatten().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
    let chi2 = pearson * (FANS - 1) as f64 / FANS as f64;
    println!("chi-square {chi2:.1} over 16 degrees of freedom");
    assert!(chi2 < 39.25, "chi-square {chi2:.1}, counts {counts:?}");
}

/// What a waiting fan is told of the line ahead, from real ticks: the seats per admitted fan
/// (from the prior, then from what the fans done bought), the seats left for the line with holds
/// paid or lapsed, each position's chance, and the admission rate over the last minute.
#[tokio::test]
async fn each_waiting_fan_is_told_its_chance_from_the_seats_left_and_what_fans_buy() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 200, t0).await;
    let ten = Admission { admit_per_tick: 10, ..SETTINGS };
    // 100 seats, none sold or held: 10 admitted and choosing, not seen since their admission, of
    // whom a quarter are expected never to come (the prior): the rest are expected to take 7.5
    // (the prior, one seat each): 92.5 left either way.
    let fresh = Inventory { seats: 100, sold: 0, held: 0, fans_holding: 0, holds_to_sell: None };
    app.store.queue.tick(&c, 1, t0, ten, fresh, None).await.unwrap();
    let line = |p: QueuePosition| match p {
        QueuePosition::Waiting { line, .. } => line,
        other => panic!("{other:?}"),
    };
    let ahead = line(position(&app, &tickets[10], t0).await);
    let seats = ahead.seats.expect("measured by the tick");
    assert_eq!((seats.per_fan, seats.if_holds_paid, seats.if_holds_lapse), (1.0, 92.5, 92.5));
    assert_eq!((seats.likely_through(), seats.unlikely_from()), (74, 186));
    assert_eq!(seats.chance(1), Chance::Likely);
    assert_eq!(seats.chance(186), Chance::Unlikely);
    // Those ten are done and bought 30 seats (3 each); 20 of the 70 left are held by ten fans
    // admitted next. (30 + 20) / (10 + 20) = 1.67 seats per fan; left: 50 with the holds paid,
    // 70 if they lapse.
    for t in &tickets[..10] {
        app.store.queue.leave(t).await.unwrap();
    }
    let later = Inventory { seats: 100, sold: 30, held: 20, fans_holding: 10, holds_to_sell: None };
    app.store.queue.tick(&c, 2, t0 + 1_000, ten, later, None).await.unwrap();
    let seats = line(position(&app, &tickets[30], t0 + 1_000).await).seats.unwrap();
    assert!((seats.per_fan - 50.0 / 30.0).abs() < 1e-3, "{seats:?}");
    assert_eq!((seats.if_holds_paid, seats.if_holds_lapse), (50.0, 70.0));
    assert_eq!((seats.chance(20), seats.chance(30), seats.chance(90)), (Chance::Likely, Chance::Possible, Chance::Unlikely));
    // The pace and the headroom: 10 a tick; the inventory let 75 in (50 seats x 1.5, nobody
    // choosing) and 10 came; the 65 left last 65 / (1.5 x 1.67 seats a fan) = 26 fans, as each
    // takes its seats times 1.5 once it holds them.
    let ahead = line(position(&app, &tickets[60], t0 + 1_000).await);
    assert_eq!((ahead.pace, ahead.headroom, ahead.bound_rate), (Some(10.0), Some(26), None));
    // Every seat held or sold: the bound holds admission under the pace; the line's rate while
    // bound is told once 30 s of it were measured, as decayed (35 ticks); nothing moved: 0, and
    // no ETA.
    let held = Inventory { seats: 100, sold: 30, held: 70, fans_holding: 30, holds_to_sell: None };
    for tick in 0..35 {
        app.store.queue.tick(&c, 3 + tick, t0 + 2_000 + tick * 1_000, ten, held, None).await.unwrap();
        let ahead = line(position(&app, &tickets[60], t0 + 2_000 + tick * 1_000).await);
        let expected = if tick < 34 { None } else { Some(0.0) };
        assert_eq!((ahead.headroom, ahead.bound_rate), (Some(0), expected), "after {} s bound", tick + 1);
        assert_eq!(ticketing::domain::queue::eta_seconds(5, 5, 0, &ahead), None, "bound and still: nobody can say");
    }
    // The public state carries the same figures.
    let ahead = line(position(&app, &tickets[60], t0 + 12_000).await);
    let public = app.store.queue.line(&c).await.unwrap();
    assert_eq!(public.ahead, ahead);
}

/// Early in a sale with long holds, the fans done are those who paid within seconds: the seats per
/// fan also count the fans holding, with the seats their holds are expected to sell. And fans
/// still choosing are counted on to buy no more than the seats there are for them now, so a seat
/// map emptied by holds does not tell the line it gets nothing even if they lapse.
#[tokio::test]
async fn fans_holding_count_in_the_seats_per_fan_and_fans_choosing_buy_at_most_the_seats_left() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 100, t0).await;
    let ten = Admission { admit_per_tick: 10, ..SETTINGS };
    let fresh = Inventory { seats: 100, sold: 0, held: 0, fans_holding: 0, holds_to_sell: None };
    app.store.queue.tick(&c, 1, t0, ten, fresh, None).await.unwrap();
    // 96 seats held by 5 of the 10 admitted, 48 of them expected to be paid: (48 + 20 x 1) / (5 +
    // 20) = 2.72 seats a fan. The rest, less a quarter expected never to come, would buy more
    // than the 4 seats left: they buy those 4.
    let emptied = Inventory { seats: 100, sold: 0, held: 96, fans_holding: 5, holds_to_sell: Some(48) };
    app.store.queue.tick(&c, 2, t0 + 1_000, ten, emptied, None).await.unwrap();
    let seats = match position(&app, &tickets[50], t0 + 1_000).await {
        QueuePosition::Waiting { line, .. } => line.seats.expect("measured by the tick"),
        other => panic!("{other:?}"),
    };
    assert!((seats.per_fan - 2.72).abs() < 1e-3, "{seats:?}");
    assert_eq!((seats.if_holds_paid, seats.if_holds_lapse), (0.0, 96.0));
    assert_eq!(seats.unlikely_from(), 71, "2 x 96 / 2.72 fans, and one more");
}

/// The lottery anyone can check: the commitment is public from the start and the seed hidden
/// until the draw; the drawn order is the one `domain::lottery` computes from the published seed
/// and count of places; the room admits in exactly that order, skipping a fan who left, and
/// everyone who came after the opening stands behind.
#[tokio::test]
async fn the_prequeue_is_admitted_in_the_published_order_that_the_seed_recomputes() {
    use ticketing::domain::lottery::{self, Seed};
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    let opening = t0 + 10_000;
    let concert = app.concert_opening(10, 1_000, t0 - 1_000, opening).await.concert_id;
    let before = app.store.queue.lottery(&concert, 0, 100, t0).await.unwrap().expect("a room");
    assert_eq!((before.seed.as_deref(), before.tickets, before.order.len()), (None, None, 0), "nothing to check before the opening");
    assert_eq!(before.commitment.len(), 64);
    assert!(before.committed_at_ms <= t0);
    let early = line_up(&app, &concert, 60, t0).await;
    assert_eq!(app.store.queue.leave(&early[6]).await.unwrap(), Left::Waiting);
    let hidden = app.store.queue.lottery(&concert, 0, 100, opening - 1).await.unwrap().unwrap();
    assert_eq!((hidden.seed, hidden.tickets), (None, None));
    // A fan joining at the opening, before the first tick: behind the pre-queue, whatever the draw.
    let late = line_up(&app, &concert, 1, opening).await;
    assert_eq!(position(&app, &early[0], opening).await, QueuePosition::Prequeue { opens_at_ms: opening }, "no order before the draw");
    let nobody = Admission { admit_per_tick: 0, ..SETTINGS };
    app.store.queue.tick(&concert, 1, opening, nobody, PLENTY, None).await.unwrap();

    let drawn = app.store.queue.lottery(&concert, 0, 100, opening).await.unwrap().unwrap();
    let seed = Seed::parse(drawn.seed.as_deref().expect("published after the draw")).unwrap();
    assert_eq!(seed.commitment(), before.commitment, "the seed is the one committed to");
    assert_eq!((drawn.tickets, drawn.drawn_at_ms, drawn.offset), (Some(60), Some(opening), 0));
    let expected: Vec<u64> = lottery::draw(&seed, &concert, 60).iter().map(|&(t, _)| t).collect();
    assert_eq!(drawn.order, expected);
    let page = app.store.queue.lottery(&concert, 50, 100, opening).await.unwrap().unwrap();
    assert_eq!(page.order, expected[50..]);
    // Drawing again (an overlapping schedule) changes nothing.
    app.store.queue.draw_lottery(&concert, opening + 1).await.unwrap();
    assert_eq!(app.store.queue.lottery(&concert, 0, 100, opening + 1).await.unwrap().unwrap(), drawn);

    // Everyone is seen, then admitted one tick at a time: the published order without the fan who
    // left, then the late fan.
    for t in early.iter().chain(&late) {
        position(&app, t, opening + 1_000).await;
    }
    let mut admitted = Vec::new();
    for tick in 0..61 {
        let one = Admission { admit_per_tick: 1, ..SETTINGS };
        app.store.queue.tick(&concert, 2 + tick, opening + 1_000 + tick, one, PLENTY, None).await.unwrap();
        let now_active = early.iter().chain(&late).filter(|t| !admitted.contains(&t.number));
        for t in now_active.cloned().collect::<Vec<_>>() {
            if matches!(position(&app, &t, opening + 1_000 + tick).await, QueuePosition::Active { .. }) {
                admitted.push(t.number);
            }
        }
    }
    let mut want: Vec<u64> = expected.into_iter().filter(|&t| t != early[6].number).collect();
    want.push(late[0].number);
    assert_eq!(admitted, want);
}

/// A room whose pre-queue nobody joined has nothing to draw: it opens as usual and publishes its
/// seed at the opening.
#[tokio::test]
async fn a_room_nobody_joined_early_publishes_its_seed_at_the_opening() {
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    let concert = app.concert_opening(10, 1_000, t0 - 1_000, t0 + 1_000).await.concert_id;
    assert_eq!(app.store.queue.lottery(&concert, 0, 10, t0).await.unwrap().unwrap().seed, None);
    let late = line_up(&app, &concert, 3, t0 + 1_000).await;
    let report = app.store.queue.tick(&concert, 1, t0 + 1_000, SETTINGS, PLENTY, None).await.unwrap();
    assert_eq!(report.admitted, 3);
    let open = app.store.queue.lottery(&concert, 0, 10, t0 + 1_000).await.unwrap().unwrap();
    let seed = ticketing::domain::lottery::Seed::parse(open.seed.as_deref().unwrap()).unwrap();
    assert_eq!((seed.commitment(), open.tickets, open.order.len()), (open.commitment.clone(), None, 0));
    assert!(matches!(position(&app, &late[0], t0 + 1_000).await, QueuePosition::Active { .. }));
    assert_eq!(app.store.queue.lottery(&ConcertId::random(), 0, 10, t0).await.unwrap(), None);
}

#[tokio::test]
async fn admission_never_lets_idle_active_fans_outnumber_the_seats_left() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    line_up(&app, &c, 100, t0).await;
    let a = Admission { admit_per_tick: 100, overbooking: 1.5, ..SETTINGS };
    // 10 seats left: at most 15 fans without a hold.
    let report = app
        .store
        .queue
        .tick(&c, 1, t0, a, Inventory { seats: 10, sold: 0, held: 0, fans_holding: 0, holds_to_sell: None }, None)
        .await
        .unwrap();
    assert_eq!(report.admitted, 15);
    // Eight of them hold one seat each: 2 seats left, room for 3 choosing fans; 7 still choose.
    let inventory = Inventory { seats: 10, sold: 0, held: 8, fans_holding: 8, holds_to_sell: None };
    assert_eq!(app.store.queue.tick(&c, 2, t0 + 1_000, a, inventory, None).await.unwrap().admitted, 0);
    // Holds lapse and give seats back: admission resumes.
    let inventory = Inventory { seats: 10, sold: 2, held: 0, fans_holding: 0, holds_to_sell: None };
    assert_eq!(app.store.queue.tick(&c, 3, t0 + 2_000, a, inventory, None).await.unwrap().admitted, 0, "12 seats x1.5 = 12 < 15 idle");
    app.store.queue.update(&c, &RoomUpdateRequest { overbooking: Some(3.0), ..Default::default() }.validate().unwrap(), t0).await.unwrap();
    assert_eq!(app.store.queue.tick(&c, 4, t0 + 3_000, a, inventory, None).await.unwrap().admitted, 9, "8 x 3 = 24 - 15 idle");
}

#[tokio::test]
async fn the_last_seat_is_offered_to_two_fans_so_one_who_vanishes_cannot_stall_it() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    line_up(&app, &c, 10, t0).await;
    let a = Admission { admit_per_tick: 100, overbooking: 1.5, ..SETTINGS };
    // 1 seat left x 1.5, rounded up: two fans.
    let last_seat = Inventory { seats: 10, sold: 9, held: 0, fans_holding: 0, holds_to_sell: None };
    assert_eq!(app.store.queue.tick(&c, 1, t0, a, last_seat, None).await.unwrap().admitted, 2);
    assert_eq!(app.store.queue.tick(&c, 2, t0 + 1_000, a, last_seat, None).await.unwrap().admitted, 0, "and no more");
}

#[tokio::test]
async fn a_sold_out_room_tells_everyone_and_admits_no_one() {
    let app = TestApp::spawn().await;
    let concert = app.concert(2, 1_000).await;
    let (c, schedule) = (concert.concert_id.clone(), concert.schedules[0].schedule_id.clone());
    let buyers = [app.admitted_user(10_000).await, app.admitted_user(10_000).await];
    let t0 = now_ms();
    let waiting = line_up(&app, &c, 5, t0).await;
    let browsing = app.admitted_user(0).await;
    for (i, buyer) in buyers.iter().enumerate() {
        let ticket = buyer.ticket.as_ref().unwrap();
        let held =
            app.store.booking.hold(ticket, &schedule, SeatNumber::parse(i as i64 + 1).unwrap(), t0, MINUTE_HOLD_FOUR_SEATS).await.unwrap();
        app.store.booking.pay(ticket, &held.reservation_id, None, t0).await.unwrap();
    }
    let report = app.tick(&c).await;
    assert!(report.sold_out_now, "{report:?}");
    assert_eq!(report.admitted, 0);
    for t in &waiting {
        assert_eq!(position(&app, t, now_ms()).await, QueuePosition::SoldOut);
    }
    assert_eq!(position(&app, browsing.ticket.as_ref().unwrap(), now_ms()).await, QueuePosition::SoldOut, "ACTIVE fans are released");
    let err = app.store.queue.join(&UserId::random(), &c, now_ms()).await.unwrap_err();
    assert_eq!(err.code(), "SOLD_OUT");
    let snapshot = app.store.queue.snapshot(&c, now_ms()).await.unwrap();
    assert_eq!((snapshot.waiting, snapshot.active, snapshot.sold_out_waiting), (0, 0, Some(5)));
    assert!(snapshot.settings.sold_out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn holds_that_lapse_while_the_last_seats_sell_never_sell_out_early() {
    let app = TestApp::spawn_with(|c| c.admission.admit_per_tick = 100).await;
    let concert = app.concert(4, 1_000).await;
    let (c, schedule) = (concert.concert_id.clone(), concert.schedules[0].schedule_id.clone());
    let t0 = now_ms();
    // Two fans hold seats that lapse at t0+50; two others buy the other two seats meanwhile.
    for seat in 1..=2 {
        let fan = app.admitted_user(0).await;
        app.store
            .booking
            .hold(fan.ticket.as_ref().unwrap(), &schedule, SeatNumber::parse(seat).unwrap(), t0, HoldPolicy { hold_ms: 50, max_seats: 4 })
            .await
            .unwrap();
    }
    let buys = (3..=4).map(|seat| {
        let app = &app;
        let schedule = schedule.clone();
        async move {
            let fan = app.admitted_user(10_000).await;
            let ticket = fan.ticket.clone().unwrap();
            let held = app
                .store
                .booking
                .hold(&ticket, &schedule, SeatNumber::parse(seat).unwrap(), now_ms(), MINUTE_HOLD_FOUR_SEATS)
                .await
                .unwrap();
            app.store.booking.pay(&ticket, &held.reservation_id, None, now_ms()).await.unwrap();
        }
    });
    let (_, report) = tokio::join!(join_all(buys), app.tick(&c));
    assert!(!report.sold_out_now);
    tokio::time::sleep(std::time::Duration::from_millis(60)).await;
    app.store.sweep_all(now_ms()).await.unwrap();
    let report = app.tick(&c).await;
    assert!(!report.sold_out_now, "two seats came back: still on sale");
    let inventory = app.store.booking.inventory(&[schedule], now_ms()).await.unwrap();
    assert_eq!((inventory.sold, inventory.held, inventory.available()), (2, 0, 2));
}

#[tokio::test]
async fn pausing_keeps_every_place_and_resuming_admits_again() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 20, t0).await;
    let pause = RoomUpdateRequest { paused: Some(true), ..Default::default() }.validate().unwrap();
    let change = app.store.queue.update(&c, &pause, t0).await.unwrap();
    assert_eq!((change["old"]["paused"].clone(), change["new"]["paused"].clone()), (serde_json::Value::Null, "1".into()));
    assert_eq!(app.store.queue.tick(&c, 1, t0, SETTINGS, PLENTY, None).await.unwrap().admitted, 0);
    assert!(matches!(
        position(&app, &tickets[0], t0).await,
        QueuePosition::Waiting { position: 1, line: LineAhead { admitted_per_second: None, .. }, paused: true, place: 1 }
    ));
    let resume = RoomUpdateRequest { paused: Some(false), admit_per_tick: Some(3), ..Default::default() }.validate().unwrap();
    app.store.queue.update(&c, &resume, t0).await.unwrap();
    assert_eq!(app.store.queue.tick(&c, 2, t0 + 1_000, SETTINGS, PLENTY, None).await.unwrap().admitted, 3, "the room's own rate");
    let zero = RoomUpdateRequest { admit_per_tick: Some(0), ..Default::default() }.validate().unwrap();
    app.store.queue.update(&c, &zero, t0).await.unwrap();
    assert_eq!(app.store.queue.tick(&c, 3, t0 + 2_000, SETTINGS, PLENTY, None).await.unwrap().admitted, 0);
    let snapshot = app.store.queue.snapshot(&c, t0 + 2_000).await.unwrap();
    assert_eq!((snapshot.waiting, snapshot.active, snapshot.changes.len()), (17, 3, 3));
    let oldest = snapshot.oldest_wait_ms.unwrap();
    assert!((2_000..3_000).contains(&oldest), "join times are kept to the second: {oldest}");
}

#[tokio::test]
async fn sale_times_change_until_the_opening_and_never_after() {
    let app = TestApp::spawn().await;
    let t0 = now_ms();
    let c = app.concert_opening(10, 1_000, t0 + 60_000, t0 + 120_000).await.concert_id;
    let sooner = RoomUpdateRequest { prequeue_opens_at: Some(ticketing::domain::models::rfc3339(t0 - 1)), ..Default::default() };
    app.store.queue.update(&c, &sooner.validate().unwrap(), t0).await.unwrap();
    let ticket = app.store.queue.join(&UserId::random(), &c, t0).await.unwrap().ticket;
    assert_eq!(position(&app, &ticket, t0).await, QueuePosition::Prequeue { opens_at_ms: t0 + 120_000 });
    let inverted = RoomUpdateRequest { opens_at: Some(ticketing::domain::models::rfc3339(t0 - 10)), ..Default::default() };
    assert_eq!(app.store.queue.update(&c, &inverted.validate().unwrap(), t0).await.unwrap_err().code(), "INVALID_SALE_WINDOW");
    let now = RoomUpdateRequest { opens_at: Some(ticketing::domain::models::rfc3339(t0)), ..Default::default() };
    app.store.queue.update(&c, &now.validate().unwrap(), t0).await.unwrap();
    app.store.queue.tick(&c, 1, t0, SETTINGS, PLENTY, None).await.unwrap();
    let later = RoomUpdateRequest { opens_at: Some(ticketing::domain::models::rfc3339(t0 + 999_999)), ..Default::default() };
    assert_eq!(app.store.queue.update(&c, &later.validate().unwrap(), t0).await.unwrap_err().code(), "SALE_ALREADY_OPEN");
}

#[tokio::test]
async fn leaving_frees_the_place_at_once_and_the_slot_on_the_next_tick() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 4, t0).await;
    let one = Admission { admit_per_tick: 1, active_cap: 1, ..SETTINGS };
    app.store.queue.tick(&c, 1, t0, one, PLENTY, None).await.unwrap();
    assert_eq!(app.store.queue.leave(&tickets[2]).await.unwrap(), Left::Waiting);
    assert!(matches!(position(&app, &tickets[3], t0).await, QueuePosition::Waiting { position: 2, .. }), "moved up at once");
    assert_eq!(app.store.queue.leave(&tickets[2]).await.unwrap(), Left::Gone, "leaving twice is harmless");
    assert_eq!(app.store.queue.leave(&tickets[0]).await.unwrap(), Left::Active);
    assert_eq!(position(&app, &tickets[0], t0).await, QueuePosition::Expired);
    app.store.queue.tick(&c, 2, t0 + 1_000, one, PLENTY, None).await.unwrap();
    assert!(matches!(position(&app, &tickets[1], t0 + 1_000).await, QueuePosition::Active { .. }), "the freed slot went to the next fan");
}

#[tokio::test]
async fn raising_the_tick_length_never_freezes_the_room() {
    use ticketing::schedule::tick_start;
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    line_up(&app, &c, 5, t0).await;
    let one = Admission { admit_per_tick: 1, ..SETTINGS };
    let report = app.store.queue.tick(&c, tick_start(t0, 1_000), t0, one, PLENTY, None).await.unwrap();
    assert!(report.ran && report.admitted == 1);
    // TICK_MILLIS goes from 1 s to 2 s: the next ticks still run (a tick number now / 2000 would
    // have been half the last one, and every later tick skipped as old).
    for (i, later) in [t0 + 2_100, t0 + 4_100, t0 + 6_100].into_iter().enumerate() {
        let report =
            app.store.queue.tick(&c, tick_start(later, 2_000), later, Admission { tick_ms: 2_000, ..one }, PLENTY, None).await.unwrap();
        assert!(report.ran && report.admitted == 1, "tick {i} after the change: {report:?}");
    }
}

#[tokio::test]
async fn a_ticket_number_issued_twice_opens_nothing_for_its_first_owner() {
    use fred::prelude::*;
    let app = TestApp::spawn().await;
    let concert = app.concert(10, 1_000).await;
    let (c, schedule) = (concert.concert_id.clone(), concert.schedules[0].schedule_id.clone());
    let first = app.admitted_user(0).await;
    let keys = app.keys();
    let redis = app.raw_redis().await;
    // Only the counter goes back (a partial loss, a hand edit): the next number is a new one.
    redis.del::<(), _>(keys.room_seq(&c)).await.unwrap();
    let other = app.admitted_user(0).await;
    assert_eq!(other.ticket.as_ref().unwrap().number, first.ticket.as_ref().unwrap().number + 1, "no number is issued twice");
    assert!(matches!(position(&app, first.ticket.as_ref().unwrap(), now_ms()).await, QueuePosition::Active { .. }));
    // Redis comes back without the room's counter and places (a restart without persistence):
    // the next fan gets the same ticket number.
    let lost = [keys.room_seq(&c), keys.room_waiting(&c), keys.room_active(&c), keys.room_holder(&c), keys.room_fans(&c)];
    redis.del::<(), _>(lost.to_vec()).await.unwrap();
    let second = app.admitted_user(0).await;
    let (a, b) = (first.ticket.clone().unwrap(), second.ticket.clone().unwrap());
    assert_eq!(a.number, b.number, "the number was issued twice");
    assert_eq!(position(&app, &a, now_ms()).await, QueuePosition::Expired, "the first owner's token is over");
    assert!(matches!(position(&app, &b, now_ms()).await, QueuePosition::Active { .. }));
    let err = app.store.booking.hold(&a, &schedule, SeatNumber::parse(1).unwrap(), now_ms(), MINUTE_HOLD_FOUR_SEATS).await.unwrap_err();
    assert_eq!(err.code(), "QUEUE_TOKEN_EXPIRED");
    assert_eq!(app.store.queue.leave(&a).await.unwrap(), Left::Gone, "nor can it take the new owner's place away");
    assert!(matches!(position(&app, &b, now_ms()).await, QueuePosition::Active { .. }));
    // Nor does ending it, as a payment that leaves no hold does, end the same number's new owner.
    app.store.queue.leave(&a).await.unwrap();
    assert!(matches!(position(&app, &b, now_ms()).await, QueuePosition::Active { .. }));

    // An ACTIVE fan whose account is gone cannot hold either.
    redis.del::<(), _>(keys.user_profile(&second.id)).await.unwrap();
    let err = app.store.booking.hold(&b, &schedule, SeatNumber::parse(1).unwrap(), now_ms(), MINUTE_HOLD_FOUR_SEATS).await.unwrap_err();
    assert_eq!(err.code(), "USER_NOT_FOUND");
    let seats = app.store.booking.inventory(&[schedule], now_ms()).await.unwrap();
    assert_eq!(seats.held, 0, "nothing was held");
}

/// A finished sale's working data goes away after the retention: unpaid reservations' records,
/// the sold-out room's places; purchases, the ledger, the room's settings and totals stay.
#[tokio::test]
async fn a_finished_sales_working_keys_go_away_after_the_retention() {
    use fred::prelude::*;
    let app = TestApp::spawn_with(|c| c.redis.retention = std::time::Duration::from_millis(300)).await;
    let concert = app.concert(2, 1_000).await;
    let (c, schedule) = (concert.concert_id.clone(), concert.schedules[0].schedule_id.clone());
    let keys = app.keys();
    let redis = app.raw_redis().await;

    // One fan's hold lapses unpaid; then two fans buy both seats and the room sells out.
    let browser = app.admitted_user(0).await;
    let lapsed = app
        .store
        .booking
        .hold(browser.ticket.as_ref().unwrap(), &schedule, SeatNumber::parse(1).unwrap(), now_ms(), HoldPolicy { hold_ms: 1, max_seats: 4 })
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(app.store.sweep_live(now_ms()).await.unwrap().released, 1);
    let mut bought = Vec::new();
    for seat in 1..=2 {
        let fan = app.admitted_user(10_000).await;
        let ticket = fan.ticket.clone().unwrap();
        let held =
            app.store.booking.hold(&ticket, &schedule, SeatNumber::parse(seat).unwrap(), now_ms(), MINUTE_HOLD_FOUR_SEATS).await.unwrap();
        app.store.booking.pay(&ticket, &held.reservation_id, None, now_ms()).await.unwrap();
        bought.push((fan, held.reservation_id));
    }
    app.store.queue.leave(browser.ticket.as_ref().unwrap()).await.unwrap();
    let report = app.tick(&c).await;
    assert!(report.sold_out_now);
    assert!(app.store.queue.retire_if_empty(&c).await.unwrap());

    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    app.store.sweep_all(now_ms()).await.unwrap();
    let record: Option<String> = redis.hget(keys.schedule_reservations(&schedule), lapsed.reservation_id.as_str()).await.unwrap();
    assert_eq!(record, None, "the lapsed hold's record is gone");
    assert!(app.store.users.reservations(&browser.id).await.unwrap().is_empty(), "and so is its line in the fan's list");
    let room_keys: u64 = redis.exists(vec![keys.room_holder(&c), keys.room_seq(&c), keys.room_fans(&c)]).await.unwrap();
    assert_eq!(room_keys, 0, "the room's places are gone");
    for (fan, reservation) in &bought {
        let mine = app.store.users.reservations(&fan.id).await.unwrap();
        assert_eq!((mine.len(), &mine[0].reservation_id), (1, reservation), "purchases stay");
    }
    let kept: u64 = redis.exists(vec![keys.room_settings(&c), keys.room_stats(&c)]).await.unwrap();
    assert_eq!(kept, 2, "the room's settings and totals stay");
    assert!(app.store.queue.snapshot(&c, now_ms()).await.unwrap().settings.sold_out);
    assert_eq!(app.store.booking.holding_schedules().await.unwrap(), vec![], "no schedule left on the sweeper's list");
}

/// A pause that lands while ticks run: the ticks that start after it admit nobody, and every
/// place is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pause_landing_mid_tick_stops_every_later_tick() {
    let app = TestApp::spawn().await;
    let c = room(&app).await;
    let t0 = now_ms();
    line_up(&app, &c, 200, t0).await;
    let one = Admission { admit_per_tick: 1, ..SETTINGS };
    let pause = RoomUpdateRequest { paused: Some(true), ..Default::default() }.validate().unwrap();
    let ticks = join_all((1..=20).map(|i| app.store.queue.tick(&c, i, t0 + i, one, PLENTY, None)));
    let (before, paused) = tokio::join!(ticks, app.store.queue.update(&c, &pause, t0));
    paused.unwrap();
    let admitted_before: u64 = before.iter().map(|r| r.as_ref().unwrap().admitted).sum();
    assert!(admitted_before <= 20);
    for i in 21..=30 {
        assert_eq!(app.store.queue.tick(&c, i, t0 + i, one, PLENTY, None).await.unwrap().admitted, 0, "tick {i} after the pause");
    }
    let snapshot = app.store.queue.snapshot(&c, t0 + 30).await.unwrap();
    assert_eq!(snapshot.waiting + snapshot.active, 200, "every place kept");
    assert_eq!(snapshot.active, admitted_before);
}

#[tokio::test]
async fn a_bound_line_is_told_the_burst_that_lets_it_in_when_the_holds_ahead_lapse() {
    let app = TestApp::spawn().await;
    let concert = app.concert(12, 100).await;
    let (c, schedule) = (concert.concert_id.clone(), concert.schedules[0].schedule_id.clone());
    let t0 = now_ms();
    let hold = HoldPolicy { hold_ms: 20_000, max_seats: 4 };
    let seat = |n: i64| SeatNumber::parse(n).unwrap();
    // Two fans pay within a second; two let their holds lapse and leave; eight hold at t0.
    for n in 1..=12 {
        let fan = app.admitted_user_in(&c, 1_000).await;
        let ticket = fan.ticket.as_ref().unwrap();
        let at = if n > 10 { t0 - 30_000 } else { t0 };
        let held = app.store.booking.hold(ticket, &schedule, seat(n), at, hold).await.unwrap();
        if n <= 2 {
            app.store.booking.pay(ticket, &held.reservation_id, None, t0 + 1_000).await.unwrap();
        } else if n > 10 {
            app.store.queue.leave(ticket).await.unwrap();
        }
    }
    app.store.booking.sweep(std::slice::from_ref(&schedule), t0 + 1_000).await.unwrap();
    let outlook = app.store.booking.hold_outlook(std::slice::from_ref(&schedule), t0 + 1_000).await.unwrap();
    assert_eq!((outlook.sold, outlook.lapsed, outlook.expiries_ms), (2, 2, vec![t0 + 20_000; 8]));
    assert_eq!(outlook.paid_in.total(), 2);
    assert_eq!(outlook.paid_in.quantile(1.0), Some(Some(1)), "paid a second after holding");

    // The line: the two seats left let 3 fans in at once (2 x 1.5); the rest wait for the holds.
    let tickets = line_up(&app, &c, 30, t0).await;
    let admission = Admission { admit_per_tick: 50, hold_ms: 20_000, ..SETTINGS };
    let report = app.store.tick_room(&c, 1, t0 + 1_000, admission).await.unwrap();
    assert_eq!(report.admitted, 3);
    let QueuePosition::Waiting { position: 1, line, place, .. } = position(&app, &tickets[3], t0 + 1_000).await else {
        panic!("the fourth is first in line");
    };
    let forecast = line.forecast.clone().expect("the tick forecast the line");
    assert_eq!(forecast.head, place);
    // Nobody before the eight holds lapse, 19 s from now; the pace alone would have said 1 s.
    let first = forecast.runs[0];
    assert_eq!(first.start_ms, t0 + 20_000, "{forecast:?}");
    assert_eq!(ticketing::domain::queue::eta_seconds(1, place, t0 + 1_000, &line), Some(19));
    let told_through = first.to;
    // Everyone reads the same forecast.
    assert_eq!(app.store.queue.line(&c).await.unwrap().ahead.forecast, Some(forecast));

    // Nothing moves until then; when the holds lapse, the burst lets in at least those told.
    let report = app.store.tick_room(&c, 2, t0 + 10_000, admission).await.unwrap();
    assert_eq!(report.admitted, 0);
    let report = app.store.tick_room(&c, 3, t0 + 20_000, admission).await.unwrap();
    assert!(report.admitted > told_through - place, "{report:?}");
    assert!(matches!(position(&app, &tickets[3], t0 + 20_000).await, QueuePosition::Active { .. }));
}

#[tokio::test]
async fn admitted_fans_gone_or_never_come_are_not_counted_on_to_buy() {
    let app = TestApp::spawn().await;
    let concert = app.concert(10, 100).await;
    let c = concert.concert_id.clone();
    let t0 = now_ms();
    let tickets = line_up(&app, &c, 10, t0).await;
    let seats = Inventory { seats: 10, sold: 0, held: 0, fans_holding: 0, holds_to_sell: None };
    app.store.queue.tick(&c, 1, t0, Admission { admit_per_tick: 4, ..SETTINGS }, seats, None).await.unwrap();
    // One of the four comes, lists the seats and closes the tab; three are never seen.
    let page = ticketing::domain::inputs::SeatPage { from: 1, limit: 10 };
    app.store.booking.seat_page(&tickets[0], &c, &concert.schedules[0].schedule_id, page, t0 + 1_000).await.unwrap();
    app.store.queue.tick(&c, 2, t0 + 15_000, Admission { admit_per_tick: 0, ..SETTINGS }, seats, None).await.unwrap();
    let QueuePosition::Waiting { line, .. } = position(&app, &tickets[4], t0 + 15_000).await else {
        panic!("the fifth waits");
    };
    // Not counted on: the one gone and a quarter (the prior) of the three never seen; the other
    // 2.25 are expected to buy a seat each (kept to a tenth).
    let left = line.seats.unwrap().if_holds_paid;
    assert!((left - (10.0 - 2.25)).abs() <= 0.05, "{left}");
}
