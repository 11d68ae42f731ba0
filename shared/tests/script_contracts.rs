//! The rules written once in Rust and followed by the Lua scripts: what the scripts store and emit
//! must decode with the Rust definitions, so the two cannot drift apart unnoticed.

use fred::prelude::*;
use ticketing::domain::events::PaymentCompleted;
use ticketing::domain::inputs::{SeatNumber, SeatPage};
use ticketing::domain::models::{SeatEntry, SeatState, SeatStatus};
use ticketing::domain::now_ms;
use ticketing::testing::policies::*;
use ticketing::testing::TestApp;

#[tokio::test]
async fn seat_entries_the_scripts_write_are_seat_entries() {
    let app = TestApp::spawn().await;
    let keys = app.keys();
    let redis = app.raw_redis().await;
    let concert = app.concert(5, 1_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let user = app.admitted_user(10_000).await;
    let ticket = user.ticket.clone().unwrap();
    let now = now_ms();

    let held = app.store.booking.hold(&ticket, &schedule, SeatNumber::parse(4).unwrap(), now, MINUTE_HOLD).await.unwrap();
    let raw: String = redis.hget(keys.schedule_seats(&schedule), "4").await.unwrap();
    let expected = SeatEntry::Held { expires_at_ms: now + 60_000, reservation: held.reservation_id.clone() };
    assert_eq!(SeatEntry::parse(&raw), Some(expected.clone()), "hold_seat.lua wrote {raw:?}");

    app.store.booking.pay(&ticket, &held.reservation_id, None, now).await.unwrap();
    let raw: String = redis.hget(keys.schedule_seats(&schedule), "4").await.unwrap();
    assert_eq!(SeatEntry::parse(&raw), Some(SeatEntry::Sold { reservation: held.reservation_id }), "settle_payment.lua wrote {raw:?}");
}

/// A listing reads each seat's 8-byte state, not its entry: through a hold, a sale, a hold that
/// lapses and is swept, and one that lapses and is taken over, the two say the same of every seat.
#[tokio::test]
async fn seat_states_agree_with_seat_entries() {
    let app = TestApp::spawn().await;
    let keys = app.keys();
    let redis = app.raw_redis().await;
    let concert = app.concert(6, 1_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let (fan, other) = (app.admitted_user(10_000).await, app.admitted_user(10_000).await);
    let (ticket, other_ticket) = (fan.ticket.clone().unwrap(), other.ticket.clone().unwrap());
    let now = now_ms();
    let seat = |n| SeatNumber::parse(n).unwrap();
    let booking = &app.store.booking;
    let sold = booking.hold(&ticket, &schedule, seat(1), now, MINUTE_HOLD).await.unwrap();
    booking.hold(&ticket, &schedule, seat(2), now, MINUTE_HOLD).await.unwrap();
    booking.hold(&ticket, &schedule, seat(3), now, LAPSING_HOLD).await.unwrap();
    booking.hold(&ticket, &schedule, seat(4), now, LAPSING_HOLD).await.unwrap();
    booking.pay(&ticket, &sold.reservation_id, None, now).await.unwrap();
    booking.hold(&other_ticket, &schedule, seat(4), now + 2_000, MINUTE_HOLD).await.unwrap();
    app.store.sweep_all(now + 2_000).await.unwrap();

    let states: Vec<u8> = redis.getrange(keys.schedule_states(&schedule), 0, 8 * 7 - 1).await.unwrap();
    let listed =
        booking.seat_page(&other_ticket, &concert.concert_id, &schedule, SeatPage { from: 1, limit: 6 }, now + 2_000).await.unwrap().1;
    let mut seen = Vec::new();
    for n in 1..=6u32 {
        let raw: Option<String> = redis.hget(keys.schedule_seats(&schedule), n).await.unwrap();
        let entry = raw.map(|raw| SeatEntry::parse(&raw).unwrap());
        let from_entry = entry_status(entry.as_ref(), now + 2_000);
        let state = SeatState::decode(states.get(8 * n as usize..8 * n as usize + 8).unwrap_or_default());
        assert_eq!(state.status(now + 2_000), from_entry, "seat {n}");
        assert_eq!(listed[n as usize - 1].status, from_entry, "seat {n} as listed");
        seen.push(format!("{from_entry:?}"));
    }
    assert_eq!(seen, ["Sold", "Held", "Available", "Held", "Available", "Available"]);
}

#[tokio::test]
async fn the_event_the_settle_script_writes_is_a_payment_completed() {
    let app = TestApp::spawn().await;
    let concert = app.concert(5, 7_000).await;
    let schedule = concert.schedules[0].schedule_id.clone();
    let user = app.admitted_user(10_000).await;
    let ticket = user.ticket.clone().unwrap();
    let held = app.store.booking.hold(&ticket, &schedule, SeatNumber::parse(2).unwrap(), now_ms(), MINUTE_HOLD).await.unwrap();
    let paid = app.store.booking.pay(&ticket, &held.reservation_id, None, now_ms()).await.unwrap();

    let entry = paid.event.expect("the payment appended its event");
    // `PaymentCompleted` denies unknown fields and requires every field it has, so this fails if
    // the script adds, drops or renames one.
    let event = PaymentCompleted::parse(entry.event.as_bytes()).unwrap_or_else(|e| panic!("{e}: {}", entry.event));
    assert_eq!(event.payment_id, paid.payment.payment_id.to_string());
    assert_eq!(event.reservation_id, held.reservation_id.to_string());
    assert_eq!(event.user_id, user.id.to_string());
    assert_eq!(event.concert_id, concert.concert_id.to_string());
    assert_eq!((&event.schedule_id, event.seat_number, event.amount), (&schedule, 2, 7_000));
    assert_eq!(event.paid_at, ticketing::domain::models::rfc3339(paid.payment.paid_at));
    let written: serde_json::Value = serde_json::from_str(&entry.event).unwrap();
    let reencoded = serde_json::to_value(&event).unwrap();
    assert_eq!(written, reencoded, "the script's JSON and the struct's are the same document");
}

/// What fans see of a seat map entry at `now_ms`: the status a listing must agree with.
fn entry_status(entry: Option<&SeatEntry>, now_ms: u64) -> SeatStatus {
    match entry {
        Some(SeatEntry::Sold { .. }) => SeatStatus::Sold,
        Some(SeatEntry::Held { expires_at_ms, .. }) if *expires_at_ms > now_ms => SeatStatus::Held,
        _ => SeatStatus::Available,
    }
}
