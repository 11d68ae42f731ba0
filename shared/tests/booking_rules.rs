//! The rules that must hold under concurrency, against the real Redis.

use futures::future::join_all;
use ticketing::api::Reservation;
use ticketing::domain::ids::ConcertId;
use ticketing::domain::inputs::{Amount, IdempotencyKey, SeatNumber};
use ticketing::domain::models::{ReservationStatus, SeatStatus};
use ticketing::domain::now_ms;
use ticketing::store::booking::HoldPolicy;
use ticketing::testing::policies::*;
use ticketing::testing::{ErrorCodeOf, TestApp};

fn cid(concert: &ticketing::domain::models::Concert) -> ConcertId {
    concert.concert_id.clone()
}

fn seat(n: i64) -> SeatNumber {
    SeatNumber::parse(n).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_holds_of_one_seat_have_exactly_one_winner() {
    let app = TestApp::spawn().await;
    let concert = app.concert(10, 1_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let mut users = Vec::new();
    for _ in 0..40 {
        users.push(app.admitted_user(0).await);
    }
    let now = now_ms();
    let results = join_all(users.iter().map(|u| {
        let ticket = u.ticket.clone().unwrap();
        let schedule = schedule.clone();
        let app = &app;
        async move { app.store.booking.hold(&ticket, &schedule, seat(7), now, MINUTE_HOLD).await }
    }))
    .await;
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "{results:?}");
    assert!(results.iter().filter_map(|r| r.as_ref().err()).all(|e| e.code() == "SEAT_TAKEN"));
    let map = app.store.booking.seat_map(users[0].ticket.as_ref().unwrap(), &cid(&concert), &schedule, now).await.unwrap();
    assert_eq!(map.iter().filter(|s| s.status == SeatStatus::Held).count(), 1);
    assert_eq!(map[6].status, SeatStatus::Held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn paying_twice_or_with_the_same_key_charges_once() {
    let app = TestApp::spawn().await;
    let concert = app.concert(5, 30_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let user = app.admitted_user(100_000).await;
    let ticket = user.ticket.clone().unwrap();
    let held = app.store.booking.hold(&ticket, &schedule, seat(1), now_ms(), MINUTE_HOLD).await.unwrap();
    let reservation = held.reservation_id.clone();
    let key = IdempotencyKey::parse("pay-once").unwrap();

    let attempts = join_all((0..20).map(|i| {
        let (app, ticket, reservation, key) = (&app, &ticket, &reservation, &key);
        async move { app.store.booking.pay(ticket, reservation, (i % 2 == 0).then_some(key), now_ms()).await }
    }))
    .await;
    let payments: Vec<_> = attempts.into_iter().map(|r| r.expect("every attempt sees the one payment")).collect();
    assert_eq!(payments.iter().filter(|p| !p.replayed).count(), 1);
    assert!(payments.iter().all(|p| p.payment == payments[0].payment));
    assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 70_000);

    // Paying ended the ticket: the same user's next hold needs a new admission.
    let second = app.store.booking.hold(&ticket, &schedule, seat(2), now_ms(), MINUTE_HOLD).await;
    assert_eq!(second.unwrap_err().code(), "QUEUE_TOKEN_EXPIRED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_balance_never_goes_negative_under_mixed_charges_and_payments() {
    let app = TestApp::spawn().await;
    let concert = app.concert(30, 10_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    // One user holds 30 seats with one ticket, then pays them all concurrently while charging.
    let user = app.admitted_user(25_000).await;
    let ticket = user.ticket.clone().unwrap();
    let mut reservations = Vec::new();
    for n in 1..=30 {
        let r = app.store.booking.hold(&ticket, &schedule, seat(n), now_ms(), MINUTE_HOLD).await.unwrap();
        reservations.push(r.reservation_id.clone());
    }
    // Each successful payment ends the ticket, so payments that reach the gate after one has
    // finished are refused with QUEUE_TOKEN_EXPIRED; the others race on the balance.
    let pays = reservations.iter().map(|r| {
        let (app, ticket) = (&app, &ticket);
        async move { app.store.booking.pay(ticket, r, None, now_ms()).await.map(|_| 10_000i64) }
    });
    let charges = (0..10).map(|_| {
        let (app, user) = (&app, &user.id);
        async move { app.store.users.charge(user, Amount::parse_charge(5_000).unwrap(), None).await.map(|_| -5_000i64) }
    });
    let (paid, charged) = tokio::join!(join_all(pays), join_all(charges));
    let spent: i64 = paid.iter().filter_map(|r| r.as_ref().ok()).sum();
    assert!(charged.iter().all(|c| c.is_ok()));
    let balance = app.store.users.balance(&user.id).await.unwrap() as i64;
    assert_eq!(balance, 25_000 + 50_000 - spent, "money is conserved");
    assert!(balance >= 0);
    for r in paid.iter().filter_map(|r| r.as_ref().err()) {
        assert!(["INSUFFICIENT_BALANCE", "QUEUE_TOKEN_EXPIRED"].contains(&r.code()), "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_expired_hold_is_released_exactly_once() {
    let app = TestApp::spawn().await;
    let concert = app.concert(3, 1_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let first = app.admitted_user(0).await;
    let t0 = now_ms();
    let held = app.store.booking.hold(first.ticket.as_ref().unwrap(), &schedule, seat(2), t0, SECOND_HOLD).await.unwrap();
    assert_eq!(held.status, ReservationStatus::Held);

    // Before the hold lapses nobody can take it and the sweeper leaves it.
    assert_eq!(app.store.booking.sweep_schedule(&concert.schedules[0].schedule_id, t0 + 999).await.unwrap().released, 0);

    // After: many sweeps and many would-be holders at once; one release, one new holder.
    let later = t0 + 1_000;
    let mut others = Vec::new();
    for _ in 0..10 {
        others.push(app.admitted_user(0).await);
    }
    let sweeps = (0..5).map(|_| app.store.booking.sweep_schedule(&concert.schedules[0].schedule_id, later));
    let holds = others.iter().map(|u| app.store.booking.hold(u.ticket.as_ref().unwrap(), &schedule, seat(2), later, MINUTE_HOLD));
    let (swept, held_again) = tokio::join!(join_all(sweeps), join_all(holds));
    let released: u64 = swept.into_iter().map(|r| r.unwrap().released).sum();
    assert!(released <= 1);
    assert_eq!(held_again.iter().filter(|r| r.is_ok()).count(), 1);
    let mine = app.store.users.reservations(&first.id).await.unwrap();
    assert_eq!(Reservation::at(&mine[0], later).status, ReservationStatus::Expired);
}

#[tokio::test]
async fn a_payment_cannot_use_another_users_hold_or_a_lapsed_one() {
    let app = TestApp::spawn().await;
    let concert = app.concert(3, 1_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let owner = app.admitted_user(10_000).await;
    let thief = app.admitted_user(10_000).await;
    let t0 = now_ms();
    let held = app.store.booking.hold(owner.ticket.as_ref().unwrap(), &schedule, seat(1), t0, SECOND_HOLD).await.unwrap();
    let reservation = held.reservation_id.clone();
    let err = app.store.booking.pay(thief.ticket.as_ref().unwrap(), &reservation, None, t0).await.unwrap_err();
    assert_eq!(err.code(), "RESERVATION_NOT_FOUND");
    let err = app.store.booking.pay(owner.ticket.as_ref().unwrap(), &reservation, None, t0 + 1_000).await.unwrap_err();
    assert_eq!(err.code(), "HOLD_EXPIRED");
    assert_eq!(app.store.users.balance(&owner.id).await.unwrap(), 10_000);
    assert_eq!(app.store.users.balance(&thief.id).await.unwrap(), 10_000);
}

#[tokio::test]
async fn a_short_balance_keeps_the_hold_and_a_later_payment_succeeds() {
    let app = TestApp::spawn().await;
    let concert = app.concert(3, 5_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let user = app.admitted_user(1_000).await;
    let ticket = user.ticket.clone().unwrap();
    let held = app.store.booking.hold(&ticket, &schedule, seat(3), now_ms(), MINUTE_HOLD).await.unwrap();
    let reservation = held.reservation_id.clone();
    let err = app.store.booking.pay(&ticket, &reservation, None, now_ms()).await.unwrap_err();
    assert_eq!(err.code(), "INSUFFICIENT_BALANCE");
    app.store.users.charge(&user.id, Amount::parse_charge(4_000).unwrap(), None).await.unwrap();
    let paid = app.store.booking.pay(&ticket, &reservation, None, now_ms()).await.unwrap();
    assert_eq!(paid.payment.balance_after, 0);
    let map = app.store.booking.seat_map(&app.admitted_user(0).await.ticket.unwrap(), &cid(&concert), &schedule, now_ms()).await.unwrap();
    assert_eq!(map[2].status, SeatStatus::Sold);
}

#[tokio::test]
async fn the_sweeper_finishes_payments_a_crash_left_half_done() {
    use ticketing::store::booking::SweepReport;
    let app = TestApp::spawn().await;
    let concert = app.concert(3, 2_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let user = app.admitted_user(10_000).await;
    let ticket = user.ticket.clone().unwrap();
    let t0 = now_ms();
    // Seat 1: a payment debited, then the process died before settling.
    let a = app.store.booking.hold(&ticket, &schedule, seat(1), t0, SECOND_HOLD).await.unwrap();
    let debited = app.store.pay_steps_for_tests(&ticket, &a.reservation_id.clone(), t0, true).await.unwrap();
    assert!(debited);
    // Seat 2: a payment claimed, then the process died before debiting.
    let b = app.store.booking.hold(&ticket, &schedule, seat(2), t0, SECOND_HOLD).await.unwrap();
    let b_id = b.reservation_id.clone();
    assert!(!app.store.pay_steps_for_tests(&ticket, &b_id, t0, false).await.unwrap());

    let report = app.store.booking.sweep_schedule(&schedule, t0 + 1_000).await.unwrap();
    assert_eq!(report, SweepReport { released: 0, settled_paid: 1, settled_void: 1 });
    let map = app.store.booking.seat_map(&app.admitted_user(0).await.ticket.unwrap(), &cid(&concert), &schedule, t0 + 1_000).await.unwrap();
    assert_eq!(map[0].status, SeatStatus::Sold);
    assert_eq!(map[1].status, SeatStatus::Available);
    assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 8_000);
    // The voided attempt can never debit now.
    assert_eq!(app.store.booking.pay(&ticket, &b_id, None, t0 + 1_000).await.unwrap_err().code(), "HOLD_EXPIRED");
    assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 8_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_concurrent_holds_from_one_fan_give_the_seat_cap_and_no_more() {
    let app = TestApp::spawn().await;
    let concert = app.concert(20, 1_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let fan = app.admitted_user(100_000).await;
    let ticket = fan.ticket.clone().unwrap();
    let now = now_ms();
    let holds = join_all((1..=10).map(|n| app.store.booking.hold(&ticket, &schedule, seat(n), now, MINUTE_HOLD_FOUR_SEATS))).await;
    assert_eq!(holds.iter().filter(|r| r.is_ok()).count(), 4, "{holds:?}");
    assert!(holds.iter().filter_map(|r| r.as_ref().err()).all(|e| e.code() == "SEAT_LIMIT_REACHED"));
    let held = app.store.booking.seat_map(&ticket, &concert.concert_id, &schedule, now).await.unwrap();
    assert_eq!(held.iter().filter(|s| s.status == SeatStatus::Held).count(), 4, "refused holds left no seat held");

    // Purchases count too; a lapsed hold gives its place back.
    let paid = holds.iter().find_map(|r| r.as_ref().ok()).unwrap();
    app.store.booking.pay(&ticket, &paid.reservation_id, None, now).await.unwrap();
    assert_eq!(
        app.store.booking.hold(&ticket, &schedule, seat(11), now, MINUTE_HOLD_FOUR_SEATS).await.unwrap_err().code(),
        "SEAT_LIMIT_REACHED"
    );
    let later = now + 60_000;
    assert!(
        app.store.booking.hold(&ticket, &schedule, seat(12), later, MINUTE_HOLD_FOUR_SEATS).await.is_ok(),
        "the three lapsed holds freed places"
    );
    // The same fan in another concert has a cap of its own.
    let other = app.concert(5, 1_000).await;
    let there = app.admitted_user_in(&other.concert_id, 0).await;
    assert!(app
        .store
        .booking
        .hold(there.ticket.as_ref().unwrap(), &other.schedules[0].schedule_id, seat(1), now, MINUTE_HOLD_FOUR_SEATS)
        .await
        .is_ok());
}

#[tokio::test]
async fn a_token_opens_only_its_own_concert() {
    let app = TestApp::spawn().await;
    let here = app.concert(5, 1_000).await;
    let there = app.concert(5, 1_000).await;
    let fan = app.admitted_user_in(&here.concert_id, 10_000).await;
    let ticket = fan.ticket.clone().unwrap();
    let err =
        app.store.booking.hold(&ticket, &there.schedules[0].schedule_id, seat(1), now_ms(), MINUTE_HOLD_FOUR_SEATS).await.unwrap_err();
    assert_eq!(err.code(), "QUEUE_TOKEN_WRONG_CONCERT");
    let err = app.store.booking.seat_map(&ticket, &there.concert_id, &there.schedules[0].schedule_id, now_ms()).await.unwrap_err();
    assert_eq!(err.code(), "QUEUE_TOKEN_WRONG_CONCERT");
    assert!(app.store.booking.hold(&ticket, &here.schedules[0].schedule_id, seat(1), now_ms(), MINUTE_HOLD_FOUR_SEATS).await.is_ok());
}

/// The Redis client resends a command that was in flight when its connection dropped: every
/// script that changes state answers a resent command as the first time and changes nothing more.
#[tokio::test]
async fn a_resent_hold_or_charge_changes_nothing_more() {
    let app = TestApp::spawn().await;
    let concert = app.concert(5, 1_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let fan = app.admitted_user(0).await;
    let ticket = fan.ticket.clone().unwrap();
    let again = app.store.hold_resent_for_tests(&ticket, &schedule, seat(3), now_ms()).await;
    let again = again.expect("the resent hold answers its own hold, not SEAT_TAKEN");
    assert_eq!(again.seat_number, 3);
    let inventory = app.store.booking.inventory(&[schedule], now_ms()).await.unwrap();
    assert_eq!((inventory.held, inventory.fans_holding), (1, 1), "one hold, counted once");

    let (first, second) = app.store.charge_resent_for_tests(&fan.id, Amount::parse_charge(700).unwrap()).await.unwrap();
    assert_eq!((first, second), (700, 700));
    assert_eq!(app.store.users.balance(&fan.id).await.unwrap(), 700, "charged once");
}

/// Only lost data can release a hold whose payment was debited (a failover that dropped the last
/// writes). Then the payment is never taken for a sale: it is recorded for a refund that
/// operators see in the sales report.
#[tokio::test]
async fn a_debited_payment_whose_hold_was_lost_is_recorded_for_refund() {
    use fred::prelude::*;
    let app = TestApp::spawn().await;
    let concert = app.concert(3, 2_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let fan = app.admitted_user(5_000).await;
    let ticket = fan.ticket.clone().unwrap();
    let held = app.store.booking.hold(&ticket, &schedule, seat(1), now_ms(), MINUTE_HOLD_FOUR_SEATS).await.unwrap();
    assert!(app.store.pay_steps_for_tests(&ticket, &held.reservation_id, now_ms(), true).await.unwrap(), "debited");

    // The schedule's side comes back without the hold: released, its seat free.
    let keys = app.keys();
    let redis = app.raw_redis().await;
    let mut record = held.clone();
    record.status = ReservationStatus::Expired;
    let json = serde_json::to_string(&record).unwrap();
    redis.hset::<(), _, _>(keys.schedule_reservations(&schedule), (held.reservation_id.as_str(), json)).await.unwrap();
    redis.hdel::<(), _, _>(keys.schedule_seats(&schedule), "1").await.unwrap();

    let err = app.store.booking.pay(&ticket, &held.reservation_id, None, now_ms()).await.unwrap_err();
    assert_eq!(err.code(), "INTERNAL", "never answered as a sale");
    let sales = app.store.sales().await.unwrap();
    assert_eq!((sales[0].refunds_due, sales[0].seat_map_sold), (1, 0));
    assert_eq!(app.store.outbox.pending(&schedule).await.unwrap(), 0, "no PaymentCompleted for a sale that did not happen");
}

/// A payment refused for a short balance leaves the hold as it was: when it lapses, the seat is
/// free at once, as its listing says, without waiting for the sweeper.
#[tokio::test]
async fn a_refused_payment_leaves_the_hold_as_it_was() {
    let app = TestApp::spawn().await;
    let concert = app.concert(3, 5_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let poor = app.admitted_user(100).await;
    let t0 = now_ms();
    let held = app
        .store
        .booking
        .hold(poor.ticket.as_ref().unwrap(), &schedule, seat(2), t0, HoldPolicy { hold_ms: 1_000, max_seats: 4 })
        .await
        .unwrap();
    let err = app.store.booking.pay(poor.ticket.as_ref().unwrap(), &held.reservation_id, None, t0).await.unwrap_err();
    assert_eq!(err.code(), "INSUFFICIENT_BALANCE");
    let later = t0 + 1_000;
    let other = app.admitted_user(0).await;
    let map = app.store.booking.seat_map(other.ticket.as_ref().unwrap(), &concert.concert_id, &schedule, later).await.unwrap();
    assert_eq!(map[1].status, SeatStatus::Available);
    assert!(
        app.store.booking.hold(other.ticket.as_ref().unwrap(), &schedule, seat(2), later, MINUTE_HOLD_FOUR_SEATS).await.is_ok(),
        "the listing told the truth"
    );
}
