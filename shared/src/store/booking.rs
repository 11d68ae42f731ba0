//! Seats, holds and payments.
//!
//! # Paying across two tags
//!
//! A payment changes the schedule (`{s:ID}`: the seat becomes SOLD) and the user (`{u:ID}`: the
//! balance goes down). No script may touch both, so a payment is three single-slot steps:
//!
//! 1. `claim_payment` (schedule): the hold must be the caller's and live; it gets a payment id.
//! 2. `debit_payment` (user): debits once per reservation and records the payment. The user's
//!    `payments` entry for a reservation is written once, as a payment or as `VOID`, and never
//!    changes after: this is the single point where a payment is decided.
//! 3. `settle_payment` (schedule): follows that decision, marking the seat SOLD (or releasing it).
//!
//! Why no seat is sold twice and no money is lost whatever crashes or races in between:
//! - a seat belongs to one reservation until that reservation is released (`hold_seat`);
//! - a hold with a payment id is never released by `hold_seat` or the sweeper directly. The sweeper
//!   first runs `void_payment` on the user's side, which returns the payment if the debit happened
//!   (then it settles PAID) or writes `VOID` so the debit can never happen (then it releases).
//!   So a debited reservation always ends SOLD, and a released one was never debited;
//! - every step is idempotent, so a retried or duplicated request repeats none of them;
//! - the settle that sells the seat also appends the PaymentCompleted event to the schedule's
//!   outbox, atomically, so every sale is published exactly as it happened (see `outbox.rs`).

use std::collections::HashMap;

use fred::prelude::*;

use super::users::parse_u64;
use super::outbox::OutboxEntry;
use super::{from_json, script_error, RedisStore};
use crate::domain::ids::{ConcertId, PaymentId, ReservationId, ScheduleId, UserId};
use crate::domain::inputs::{IdempotencyKey, SeatNumber};
use crate::domain::models::{Payment, ReservationRecord, Seat, SeatStatus};
use crate::domain::tokens::QueueTicket;
use crate::error::ApiError;

/// A payment as the API reports it.
#[derive(Debug, PartialEq)]
pub struct Paid {
    pub payment: Payment,
    /// True when this request found the payment already made (a retry).
    pub replayed: bool,
    /// The PaymentCompleted event this request put in the outbox, to publish at once.
    pub event: Option<OutboxEntry>,
}

/// What one sweep of lapsed holds did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub released: u64,
    /// Lapsed holds with a payment attempt that the user's side showed as paid.
    pub settled_paid: u64,
    /// Lapsed holds with a payment attempt that never debited, now released.
    pub settled_void: u64,
}

/// Lapsed holds handled per schedule per sweep call; the sweeper calls again while there are more.
const SWEEP_BATCH: u64 = 500;

impl RedisStore {
    fn booking_keys(&self, schedule: &str, names: &[&str]) -> Vec<String> {
        names.iter().map(|n| self.keys.schedule_by_id(schedule, n)).collect()
    }

    /// Every seat of a schedule of `concert` with its status, for an ACTIVE ticket: one round trip
    /// (the gate, the schedule's meta and its taken seats in one pipeline).
    pub async fn seat_map(
        &self,
        ticket: &QueueTicket,
        concert: &ConcertId,
        schedule: &ScheduleId,
        now_ms: u64,
    ) -> Result<Vec<Seat>, ApiError> {
        let pipe = self.client().pipeline();
        self.gate_in(&pipe, ticket).await?;
        pipe.hmget::<(), _, _>(self.keys.schedule(schedule, "meta"), vec!["seatCount", "concertId"]).await?;
        pipe.hgetall::<(), _>(self.keys.schedule(schedule, "seats")).await?;
        let (active_until, meta, taken): (Option<f64>, (Option<u32>, Option<String>), HashMap<u32, String>) =
            pipe.all().await?;
        self.check_gate(active_until, ticket, now_ms).await?;
        let seat_count = match meta {
            (Some(count), Some(owner)) if owner == concert.as_str() => count,
            _ => return Err(script_error("SCHEDULE_NOT_FOUND")),
        };
        Ok((1..=seat_count)
            .map(|number| Seat { number, status: seat_status(taken.get(&number).map(String::as_str), now_ms) })
            .collect())
    }

    /// Holds a seat for `hold_ms`. The user's reservation index is written in the same round trip
    /// as the gate, before the hold, so a hold is never missing from "my reservations".
    pub async fn hold_seat(
        &self,
        ticket: &QueueTicket,
        schedule: &ScheduleId,
        seat: SeatNumber,
        now_ms: u64,
        hold_ms: u64,
    ) -> Result<ReservationRecord, ApiError> {
        let reservation = ReservationId::random();
        let index = self.keys.user(&ticket.user, "reservations");
        let pipe = self.client().pipeline();
        self.gate_in(&pipe, ticket).await?;
        pipe.hset::<(), _, _>(&index, (reservation.as_str(), schedule.as_str())).await?;
        let (active_until, _): (Option<f64>, i64) = pipe.all().await?;
        if let Err(e) = self.check_gate(active_until, ticket, now_ms).await {
            self.client().hdel::<(), _, _>(&index, reservation.as_str()).await?;
            return Err(e);
        }

        let keys = self.booking_keys(schedule.as_str(), &["meta", "seats", "reservations", "holds"]);
        let args = vec![
            seat.get().to_string(),
            reservation.to_string(),
            ticket.user.to_string(),
            now_ms.to_string(),
            hold_ms.to_string(),
            schedule.to_string(),
        ];
        let answer: Vec<String> = self.scripts.hold_seat.evalsha_with_reload(self.client(), keys, args).await?;
        match answer.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["OK", json] => from_json(json),
            ["ERR", code] => {
                self.client().hdel::<(), _, _>(&index, reservation.as_str()).await?;
                Err(script_error(code))
            }
            other => Err(ApiError::Internal(format!("hold_seat answered {other:?}"))),
        }
    }

    /// Pays a live hold of the ticket's user from their balance, marks the seat SOLD and ends the
    /// ticket. Paying an already paid reservation returns the first payment and charges nothing,
    /// even after the ticket has ended. See the module docs for why the steps are safe.
    pub async fn pay(
        &self,
        ticket: &QueueTicket,
        reservation: &ReservationId,
        key: Option<&IdempotencyKey>,
        now_ms: u64,
    ) -> Result<Paid, ApiError> {
        let user = &ticket.user;
        let pipe = self.client().pipeline();
        self.gate_in(&pipe, ticket).await?;
        pipe.hget::<(), _, _>(self.keys.user(user, "payments"), reservation.as_str()).await?;
        pipe.hget::<(), _, _>(self.keys.user(user, "reservations"), reservation.as_str()).await?;
        let (active_until, paid, schedule): (Option<f64>, Option<String>, Option<String>) = pipe.all().await?;
        let schedule = schedule.ok_or_else(|| script_error("RESERVATION_NOT_FOUND"))?;
        if let Some(payment) = Self::parse_payment(paid)? {
            // A retry: make sure the seat side caught up (a no-op unless a crash stopped it).
            let event = self.settle(&schedule, reservation, "PAID", payment.paid_at).await?;
            return Ok(Paid { payment, replayed: true, event });
        }
        self.check_gate(active_until, ticket, now_ms).await?;

        let record = self.claim(&schedule, reservation, user, now_ms).await?;
        let (payment, replayed) = self.debit(&record, user, key, now_ms).await?;
        // Step 3 with the end of the ticket, concurrently (different tags).
        let (event, ()) = tokio::try_join!(
            self.settle(&schedule, reservation, "PAID", payment.paid_at),
            self.end_ticket(ticket),
        )?;
        Ok(Paid { payment, replayed, event })
    }

    /// Step 1, on the schedule's side: the caller's live hold, with its payment id.
    async fn claim(&self, schedule: &str, reservation: &ReservationId, user: &UserId, now_ms: u64) -> Result<ReservationRecord, ApiError> {
        let keys = self.booking_keys(schedule, &["reservations"]);
        let args = vec![reservation.to_string(), user.to_string(), now_ms.to_string(), PaymentId::random().to_string()];
        let answer: Vec<String> = self.scripts.claim_payment.evalsha_with_reload(self.client(), keys, args).await?;
        match answer.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["HELD" | "PAID", json] => from_json(json),
            ["ERR", code] => Err(script_error(code)),
            other => Err(ApiError::Internal(format!("claim_payment answered {other:?}"))),
        }
    }

    /// Step 2, on the user's side: the deciding debit. The flag is true when an earlier request
    /// already debited.
    async fn debit(&self, record: &ReservationRecord, user: &UserId, key: Option<&IdempotencyKey>, now_ms: u64) -> Result<(Payment, bool), ApiError> {
        let keys = vec![
            self.keys.user(user, "profile"),
            self.keys.user(user, "payments"),
            self.keys.user(user, "idempotency"),
        ];
        let args = vec![
            record.reservation_id.clone(),
            record.payment_id.clone().unwrap_or_default(),
            record.price.to_string(),
            record.concert_id.clone(),
            record.schedule_id.clone(),
            record.seat_number.to_string(),
            user.to_string(),
            now_ms.to_string(),
            key.map(|k| format!("pay:{}", k.as_str())).unwrap_or_default(),
        ];
        let answer: Vec<String> = self.scripts.debit_payment.evalsha_with_reload(self.client(), keys, args).await?;
        match answer.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["PAID", json] => Ok((from_json(json)?, false)),
            ["DONE", json] => Ok((from_json(json)?, true)),
            ["SHORT", balance] => Err(ApiError::conflict(
                "INSUFFICIENT_BALANCE",
                format!("the price is {} but the balance is {}", record.price, parse_u64(balance)?),
            )),
            ["VOID"] => {
                let reservation = ReservationId::parse(&record.reservation_id)?;
                self.settle(&record.schedule_id, &reservation, "VOID", now_ms).await?;
                Err(script_error("HOLD_EXPIRED"))
            }
            ["KEY_REUSED"] => Err(ApiError::unprocessable(
                "IDEMPOTENCY_KEY_REUSED",
                "this Idempotency-Key was used to pay another reservation",
            )),
            ["NO_USER"] => Err(ApiError::not_found("USER_NOT_FOUND", "the account no longer exists")),
            other => Err(ApiError::Internal(format!("debit_payment answered {other:?}"))),
        }
    }

    /// Runs step 1 and, with `debit`, step 2 of a payment, then stops as a crashed process would.
    /// Returns whether the debit happened.
    #[cfg(feature = "testing")]
    pub async fn pay_steps_for_tests(&self, ticket: &QueueTicket, reservation: &ReservationId, now_ms: u64, debit: bool) -> bool {
        let schedule: String = self.client().hget(self.keys.user(&ticket.user, "reservations"), reservation.as_str()).await.unwrap();
        let record = self.claim(&schedule, reservation, &ticket.user, now_ms).await.unwrap();
        debit && self.debit(&record, &ticket.user, None, now_ms).await.is_ok()
    }

    /// Step 3, on the schedule's side. Returns the outbox entry when this call sold the seat.
    async fn settle(&self, schedule: &str, reservation: &ReservationId, outcome: &str, at_ms: u64) -> Result<Option<OutboxEntry>, ApiError> {
        let keys = self.booking_keys(schedule, &["seats", "reservations", "holds", "outbox"]);
        let args = vec![
            reservation.to_string(),
            outcome.to_owned(),
            at_ms.to_string(),
            format!("{:032x}", rand::random::<u128>()),
            crate::domain::models::rfc3339(at_ms),
        ];
        let answer: Vec<String> = self.scripts.settle_payment.evalsha_with_reload(self.client(), keys, args).await?;
        match answer.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["PAID", _, id, event, outbox_len] => Ok(Some(OutboxEntry {
                schedule_id: schedule.to_owned(),
                id: id.to_string(),
                event: event.to_string(),
                oldest: *outbox_len == "1",
            })),
            ["ERR", code] => Err(script_error(code)),
            [_, _] => Ok(None),
            other => Err(ApiError::Internal(format!("settle_payment answered {other:?}"))),
        }
    }

    /// Releases every lapsed hold of one schedule. A lapsed hold with a payment attempt is settled
    /// through the user's side first (see the module docs).
    pub async fn sweep_schedule(&self, schedule: &str, now_ms: u64) -> Result<SweepReport, ApiError> {
        let mut report = SweepReport::default();
        loop {
            let keys = self.booking_keys(schedule, &["seats", "reservations", "holds"]);
            let args = vec![now_ms.to_string(), SWEEP_BATCH.to_string()];
            let answer: Vec<String> = self.scripts.expire_holds.evalsha_with_reload(self.client(), keys, args).await?;
            let released = parse_u64(answer.first().map(String::as_str).unwrap_or(""))?;
            report.released += released;
            let attempted = &answer[1..];
            for pair in attempted.chunks(2) {
                let [reservation, user] = pair else { continue };
                let (reservation, user) = (ReservationId::parse(reservation)?, UserId::parse(user)?);
                let decided: String = self
                    .scripts
                    .void_payment
                    .evalsha_with_reload(self.client(), vec![self.keys.user(&user, "payments")], vec![reservation.to_string()])
                    .await?;
                if decided == "VOID" {
                    self.settle(schedule, &reservation, "VOID", now_ms).await?;
                    report.settled_void += 1;
                } else {
                    let payment: Payment = from_json(&decided)?;
                    self.settle(schedule, &reservation, "PAID", payment.paid_at).await?;
                    report.settled_paid += 1;
                }
            }
            let handled = released + (attempted.len() / 2) as u64;
            if handled < SWEEP_BATCH {
                return Ok(report);
            }
        }
    }

    /// Sweeps every schedule in the catalog.
    pub async fn sweep_all(&self, now_ms: u64) -> Result<SweepReport, ApiError> {
        let mut total = SweepReport::default();
        for schedule in self.schedule_ids().await? {
            let r = self.sweep_schedule(&schedule, now_ms).await?;
            total.released += r.released;
            total.settled_paid += r.settled_paid;
            total.settled_void += r.settled_void;
        }
        Ok(total)
    }
}

/// A seat entry is `H|expiresAtMs|reservationId` (held) or `S|0|reservationId` (sold); no entry,
/// or a hold whose time has passed, is available.
fn seat_status(entry: Option<&str>, now_ms: u64) -> SeatStatus {
    let Some(entry) = entry else { return SeatStatus::Available };
    let mut parts = entry.splitn(3, '|');
    match (parts.next(), parts.next().and_then(|t| t.parse::<u64>().ok())) {
        (Some("S"), _) => SeatStatus::Sold,
        (Some("H"), Some(until)) if until > now_ms => SeatStatus::Held,
        _ => SeatStatus::Available,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_entries_decode_with_the_clock() {
        assert_eq!(seat_status(None, 5), SeatStatus::Available);
        assert_eq!(seat_status(Some("H|10|r"), 5), SeatStatus::Held);
        assert_eq!(seat_status(Some("H|10|r"), 10), SeatStatus::Available);
        assert_eq!(seat_status(Some("S|0|r"), 99), SeatStatus::Sold);
    }
}
