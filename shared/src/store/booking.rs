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
use std::sync::RwLock;

use fred::prelude::*;

use super::outbox::OutboxEntry;
use super::queue::Gate;
use super::script::{lua, parse_id, FromReply, LuaScript, Redis, Reply};
use super::{Rejection, StoreError, StoreResult};
use crate::domain::ids::{ConcertId, PaymentId, ReservationId, ScheduleId, UserId};
use crate::domain::inputs::{IdempotencyKey, SeatNumber, SeatPage};
use crate::domain::models::{rfc3339, Payment, ReservationRecord, Seat, SeatState};
use crate::domain::queue::Inventory;
use crate::domain::tokens::QueueTicket;

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

impl std::ops::AddAssign for SweepReport {
    fn add_assign(&mut self, other: SweepReport) {
        self.released += other.released;
        self.settled_paid += other.settled_paid;
        self.settled_void += other.settled_void;
    }
}

/// Lapsed holds handled per schedule per sweep call; the sweeper calls again while there are more.
const SWEEP_BATCH: u64 = 500;

/// What the user's side decided about a payment attempt; the schedule's side follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    Paid,
    Void,
}

impl Decision {
    /// The word `settle_payment.lua` takes.
    fn as_lua(self) -> &'static str {
        match self {
            Decision::Paid => "PAID",
            Decision::Void => "VOID",
        }
    }
}

/// The `{'ERR', code}` a schedule-side script answers when the rules refuse.
fn refusal(reply: &mut Reply) -> StoreResult<Rejection> {
    Ok(match reply.text()?.as_str() {
        "SCHEDULE_NOT_FOUND" => Rejection::ScheduleNotFound,
        "SEAT_NOT_FOUND" => Rejection::SeatNotFound,
        "SEAT_TAKEN" => Rejection::SeatTaken,
        "RESERVATION_NOT_FOUND" => Rejection::ReservationNotFound,
        "HOLD_EXPIRED" => Rejection::HoldExpired,
        "WRONG_CONCERT" => Rejection::WrongConcert,
        _ => return Err(reply.unexpected()),
    })
}

/// `hold_seat.lua` and `claim_payment.lua` answer a reservation (`OK`, `HELD` or `PAID`) or a
/// refusal.
enum ReservationReply {
    Record(ReservationRecord),
    Refused(Rejection),
}

/// `claim_payment.lua`'s answer: the reservation, or its price above the balance (the hold left
/// as it was).
enum ClaimPaymentReply {
    Claimed(ReservationReply),
    Short { balance: u64, record: ReservationRecord },
}

impl FromReply for ClaimPaymentReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        let first = reply.text()?;
        if first == "SHORT" {
            return Ok(ClaimPaymentReply::Short { balance: reply.number()?, record: reply.json()? });
        }
        Ok(ClaimPaymentReply::Claimed(match first.as_str() {
            "HELD" | "PAID" => ReservationReply::Record(reply.json()?),
            "ERR" => ReservationReply::Refused(refusal(reply)?),
            _ => return Err(reply.unexpected()),
        }))
    }
}

impl FromReply for ReservationReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "OK" | "HELD" | "PAID" => ReservationReply::Record(reply.json()?),
            "ERR" => ReservationReply::Refused(refusal(reply)?),
            _ => return Err(reply.unexpected()),
        })
    }
}

impl ReservationReply {
    fn into_result(self) -> StoreResult<ReservationRecord> {
        match self {
            ReservationReply::Record(record) => Ok(record),
            ReservationReply::Refused(rejection) => Err(rejection.into()),
        }
    }
}

/// `debit_payment.lua`'s answer. `live_holds`: the user's holds of the concert still unpaid.
enum DebitReply {
    Paid {
        payment: Payment,
        live_holds: u64,
    },
    /// Paid by an earlier request.
    AlreadyPaid {
        payment: Payment,
        live_holds: u64,
    },
    /// The sweeper voided this attempt: the hold lapsed.
    Void,
    Short {
        balance: u64,
    },
    KeyReused,
    NoUser,
}

impl FromReply for DebitReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "PAID" => DebitReply::Paid { payment: reply.json()?, live_holds: reply.number()? },
            "DONE" => DebitReply::AlreadyPaid { payment: reply.json()?, live_holds: reply.number()? },
            "VOID" => DebitReply::Void,
            "SHORT" => DebitReply::Short { balance: reply.number()? },
            "KEY_REUSED" => DebitReply::KeyReused,
            "NO_USER" => DebitReply::NoUser,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// `void_payment.lua`'s answer: the debit that happened, or the guarantee it never will.
enum VoidReply {
    Paid(Payment),
    Void,
}

impl FromReply for VoidReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "PAID" => VoidReply::Paid(reply.json()?),
            "VOID" => VoidReply::Void,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// `settle_payment.lua`'s answer.
enum SettleReply {
    /// Debited, but the hold was released: recorded for a refund.
    Orphaned,
    /// This call sold the seat and appended the event to the outbox.
    Sold {
        outbox_id: String,
        event: String,
        outbox_len: u64,
    },
    /// Nothing to do: settled before, or released.
    Settled,
    Refused(Rejection),
}

impl FromReply for SettleReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        let status = reply.text()?;
        if status == "ERR" {
            return Ok(SettleReply::Refused(refusal(reply)?));
        }
        if status == "ORPHANED" {
            reply.text()?;
            return Ok(SettleReply::Orphaned);
        }
        let _reservation = reply.text()?;
        Ok(match (status.as_str(), reply.has_more()) {
            ("PAID", true) => SettleReply::Sold { outbox_id: reply.text()?, event: reply.text()?, outbox_len: reply.number()? },
            ("PAID" | "EXPIRED", false) => SettleReply::Settled,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// `expire_holds.lua`'s answer: how many holds it released, and the lapsed holds with a payment
/// attempt that must be settled through the user's side first.
struct ExpireReply {
    released: u64,
    attempted: Vec<(ReservationId, UserId)>,
}

impl FromReply for ExpireReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        let released = reply.number()?;
        let mut attempted = Vec::new();
        while reply.has_more() {
            attempted.push((parse_id(&reply.text()?)?, parse_id(&reply.text()?)?));
        }
        Ok(ExpireReply { released, attempted })
    }
}

/// `claim_seat.lua`'s answer: whether the user may hold one more seat of the concert.
enum ClaimReply {
    Claimed,
    Limit,
    /// The account is gone: no hold for it.
    NoUser,
}

impl FromReply for ClaimReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        let outcome = reply.text()?;
        reply.number()?;
        Ok(match outcome.as_str() {
            "OK" => ClaimReply::Claimed,
            "LIMIT" => ClaimReply::Limit,
            "NO_USER" => ClaimReply::NoUser,
            _ => return Err(reply.unexpected()),
        })
    }
}

pub struct BookingStore {
    redis: Redis,
    /// How long an unpaid reservation's record is kept after it ended.
    retention_ms: u64,
    gate: Gate,
    claim_seat: LuaScript,
    hold_seat: LuaScript,
    claim_payment: LuaScript,
    debit_payment: LuaScript,
    void_payment: LuaScript,
    settle_payment: LuaScript,
    expire_holds: LuaScript,
    /// Each schedule's seat count and concert, as its meta gave them: neither changes once the
    /// schedule is created, so a listing reads them once per process, and asks Redis for the
    /// hall's seats only, not for every number up to the page's limit.
    shapes: RwLock<HashMap<ScheduleId, (u32, ConcertId)>>,
}

impl BookingStore {
    pub(crate) fn new(redis: Redis, retention_ms: u64) -> Self {
        BookingStore {
            retention_ms,
            gate: Gate::new(redis.clone()),
            redis,
            claim_seat: lua!("claim_seat"),
            hold_seat: lua!("hold_seat"),
            claim_payment: lua!("claim_payment"),
            debit_payment: lua!("debit_payment"),
            void_payment: lua!("void_payment"),
            settle_payment: lua!("settle_payment"),
            expire_holds: lua!("expire_holds"),
            shapes: RwLock::new(HashMap::new()),
        }
    }

    pub(crate) fn scripts(&self) -> Vec<&LuaScript> {
        vec![
            &self.claim_seat,
            &self.hold_seat,
            &self.claim_payment,
            &self.debit_payment,
            &self.void_payment,
            &self.settle_payment,
            &self.expire_holds,
        ]
    }

    /// The first page of a schedule's seats (every seat of a hall of up to 5,000).
    pub async fn seat_map(&self, ticket: &QueueTicket, concert: &ConcertId, schedule: &ScheduleId, now_ms: u64) -> StoreResult<Vec<Seat>> {
        let first = SeatPage { from: 1, limit: SeatPage::MAX };
        Ok(self.seat_page(ticket, concert, schedule, first, now_ms).await?.1)
    }

    /// The seats `page` of a schedule of `concert` with their status, for an ACTIVE ticket, and the
    /// schedule's seat count: one round trip (the gate and the page's seat states in one
    /// pipeline; the schedule's concert and size, which never change, are read once per process),
    /// O(page size) whatever the hall's size.
    pub async fn seat_page(
        &self,
        ticket: &QueueTicket,
        concert: &ConcertId,
        schedule: &ScheduleId,
        page: SeatPage,
        now_ms: u64,
    ) -> StoreResult<(u32, Vec<Seat>)> {
        if &ticket.concert != concert {
            return Err(Rejection::WrongConcert.into());
        }
        let keys = &self.redis.keys;
        let shape = self.shape(schedule).await?;
        let seat_count = shape.as_ref().map_or(0, |(count, _)| *count);
        let numbers = page.numbers_within(seat_count);
        // A page past the last seat still reads one seat's bytes: the pipeline keeps its shape.
        let (first, last) = (numbers.start, numbers.end.saturating_sub(1).max(numbers.start));
        // The page's seat states in one string: no field names to send, one value to decode,
        // whatever the page's size.
        let pipe = self.redis.client().pipeline();
        self.gate.queue_in(&pipe, ticket).await?;
        pipe.getrange::<(), _>(keys.schedule_states(schedule), 8 * first as usize, 8 * last as usize + 7).await?;
        let (active_until, latest, states): (Option<f64>, Option<u64>, Vec<u8>) = pipe.all().await?;
        self.gate.judge((active_until, latest), ticket, now_ms).await?;
        match shape {
            Some((_, of)) if &of == concert => {}
            _ => return Err(Rejection::ScheduleNotFound.into()),
        }
        let seats = numbers
            .map(|number| {
                let at = 8 * (number - first) as usize;
                let state = states.get(at..at + 8).map_or(SeatState::AVAILABLE, SeatState::decode);
                Seat { number, status: state.status(now_ms) }
            })
            .collect();
        Ok((seat_count, seats))
    }

    /// A schedule's seat count and concert (`None`: no such schedule), from Redis the first time
    /// this process asks: neither ever changes once the schedule exists.
    async fn shape(&self, schedule: &ScheduleId) -> StoreResult<Option<(u32, ConcertId)>> {
        if let Some(shape) = self.shapes.read().unwrap_or_else(|e| e.into_inner()).get(schedule) {
            return Ok(Some(shape.clone()));
        }
        let meta: (Option<u32>, Option<String>) =
            self.redis.client().hmget(self.redis.keys.schedule_meta(schedule), vec!["seatCount", "concertId"]).await?;
        let (Some(count), Some(concert)) = meta else { return Ok(None) };
        let shape = (count, parse_id(&concert)?);
        self.shapes.write().unwrap_or_else(|e| e.into_inner()).insert(schedule.clone(), shape.clone());
        Ok(Some(shape))
    }

    /// Holds a seat for `hold_ms`, if the user holds and bought fewer than `max_seats` seats of the
    /// concert. The user's reservation index is written in the same round trip as the gate, before
    /// the hold, so a hold is never missing from "my reservations"; the per-fan cap is taken on the
    /// user's side before the hold and given back if the hold is refused. Asking again for a seat
    /// the user holds (a retry after a lost answer) returns that hold as it is (`held_at` before
    /// `now_ms`), and gives the new claim back.
    pub async fn hold(
        &self,
        ticket: &QueueTicket,
        schedule: &ScheduleId,
        seat: SeatNumber,
        now_ms: u64,
        hold_ms: u64,
        max_seats: u64,
    ) -> StoreResult<ReservationRecord> {
        let keys = &self.redis.keys;
        let reservation = ReservationId::random();
        let index = keys.user_reservations(&ticket.user);
        let claims = keys.user_claims(&ticket.user, &ticket.concert);
        let pipe = self.redis.client().pipeline();
        self.gate.queue_in(&pipe, ticket).await?;
        pipe.hset::<(), _, _>(&index, (reservation.as_str(), schedule.as_str())).await?;
        let (active_until, latest, _): (Option<f64>, Option<u64>, i64) = pipe.all().await?;
        let claim = match self.gate.judge((active_until, latest), ticket, now_ms).await {
            Ok(()) => {
                let args = vec![now_ms.to_string(), (now_ms + hold_ms).to_string(), reservation.to_string(), max_seats.to_string()];
                self.redis.run(&self.claim_seat, vec![claims.clone(), keys.user_profile(&ticket.user)], args).await?
            }
            Err(e) => {
                self.redis.client().hdel::<(), _, _>(&index, reservation.as_str()).await?;
                return Err(e);
            }
        };
        let refused = match claim {
            ClaimReply::Claimed => None,
            ClaimReply::Limit => Some(Rejection::SeatLimitReached { max: max_seats }),
            ClaimReply::NoUser => Some(Rejection::UserNotFound),
        };
        if let Some(rejection) = refused {
            self.redis.client().hdel::<(), _, _>(&index, reservation.as_str()).await?;
            return Err(rejection.into());
        }

        let reply = self.hold_script(ticket, schedule, seat, &reservation, now_ms, hold_ms).await?;
        let earlier_hold = matches!(&reply, ReservationReply::Record(r) if r.reservation_id != reservation);
        if let ReservationReply::Record(_) = reply {
            // The sweeper's list of schedules with holds (cleared once they have none).
            self.redis.client().sadd::<(), _, _>(keys.work_holding(), schedule.as_str()).await?;
        }
        if earlier_hold || matches!(reply, ReservationReply::Refused(_)) {
            let pipe = self.redis.client().pipeline();
            pipe.hdel::<(), _, _>(&index, reservation.as_str()).await?;
            pipe.zrem::<(), _, _>(&claims, reservation.as_str()).await?;
            let _: Vec<i64> = pipe.all().await?;
        }
        reply.into_result()
    }

    /// `hold_seat.lua` for one reservation id: safe to run again (a resent command answers the same
    /// hold).
    async fn hold_script(
        &self,
        ticket: &QueueTicket,
        schedule: &ScheduleId,
        seat: SeatNumber,
        reservation: &ReservationId,
        now_ms: u64,
        hold_ms: u64,
    ) -> StoreResult<ReservationReply> {
        let keys = &self.redis.keys;
        let script_keys = vec![
            keys.schedule_meta(schedule),
            keys.schedule_seats(schedule),
            keys.schedule_reservations(schedule),
            keys.schedule_holds(schedule),
            keys.schedule_holders(schedule),
            keys.schedule_finished(schedule),
            keys.schedule_states(schedule),
        ];
        let args = vec![
            seat.get().to_string(),
            reservation.to_string(),
            ticket.user.to_string(),
            now_ms.to_string(),
            hold_ms.to_string(),
            schedule.to_string(),
            ticket.concert.to_string(),
        ];
        self.redis.run(&self.hold_seat, script_keys, args).await
    }

    /// Holds a seat, then sends the same hold script again, as the client does when a connection
    /// drops with the command in flight; returns what the second sending answered.
    #[cfg(feature = "testing")]
    pub async fn hold_resent_for_tests(
        &self,
        ticket: &QueueTicket,
        schedule: &ScheduleId,
        seat: SeatNumber,
        now_ms: u64,
    ) -> StoreResult<ReservationRecord> {
        let first = self.hold(ticket, schedule, seat, now_ms, 60_000, 100).await?;
        self.hold_script(ticket, schedule, seat, &first.reservation_id, now_ms, 60_000).await?.into_result()
    }

    /// Pays a live hold of the ticket's user from their balance and marks the seat SOLD; when that
    /// leaves the user no live hold of the concert, the ticket ends (its slot goes to the next fan).
    /// Paying an already paid reservation returns the first payment and charges nothing, even
    /// after the ticket has ended. See the module docs for why the steps are safe.
    pub async fn pay(
        &self,
        ticket: &QueueTicket,
        reservation: &ReservationId,
        key: Option<&IdempotencyKey>,
        now_ms: u64,
    ) -> StoreResult<Paid> {
        let (keys, user) = (&self.redis.keys, &ticket.user);
        let pipe = self.redis.client().pipeline();
        self.gate.queue_in(&pipe, ticket).await?;
        pipe.hget::<(), _, _>(keys.user_payments(user), reservation.as_str()).await?;
        pipe.hget::<(), _, _>(keys.user_reservations(user), reservation.as_str()).await?;
        pipe.hget::<(), _, _>(keys.user_profile(user), "balance").await?;
        type Answers = (Option<f64>, Option<u64>, Option<String>, Option<String>, Option<u64>);
        let (active_until, latest, paid, schedule, balance): Answers = pipe.all().await?;
        let schedule: ScheduleId = parse_id(&schedule.ok_or(Rejection::ReservationNotFound)?)?;
        if let Some(raw) = paid.filter(|p| p != "VOID") {
            // A retry: make sure the seat side caught up (a no-op unless a crash stopped it).
            let payment: Payment = super::script::from_json(&raw)?;
            let event = self.settle(&schedule, reservation, Decision::Paid, payment.paid_at).await?;
            return Ok(Paid { payment, replayed: true, event });
        }
        self.gate.judge((active_until, latest), ticket, now_ms).await?;

        let record = self.claim(&schedule, reservation, ticket, balance, now_ms).await?;
        let (payment, replayed, live_holds) = self.debit(&record, key, now_ms).await?;
        // Step 3 with the end of the ticket, concurrently (different tags).
        let end_ticket = async {
            match live_holds {
                0 => self.gate.end(ticket).await,
                _ => Ok(()),
            }
        };
        let (event, ()) = tokio::try_join!(self.settle(&schedule, reservation, Decision::Paid, payment.paid_at), end_ticket)?;
        Ok(Paid { payment, replayed, event })
    }

    /// Step 1, on the schedule's side: the caller's live hold of the ticket's concert, with its
    /// payment id. With the user's `balance` at hand, a price it cannot pay is refused before the
    /// hold is marked as being paid.
    async fn claim(
        &self,
        schedule: &ScheduleId,
        reservation: &ReservationId,
        ticket: &QueueTicket,
        balance: Option<u64>,
        now_ms: u64,
    ) -> StoreResult<ReservationRecord> {
        let keys = vec![self.redis.keys.schedule_reservations(schedule)];
        let payment = PaymentId::random();
        let args = vec![
            reservation.to_string(),
            ticket.user.to_string(),
            now_ms.to_string(),
            payment.to_string(),
            ticket.concert.to_string(),
            balance.map(|b| b.to_string()).unwrap_or_default(),
        ];
        match self.redis.run(&self.claim_payment, keys, args).await? {
            ClaimPaymentReply::Claimed(reply) => reply.into_result(),
            ClaimPaymentReply::Short { balance, record } => Err(Rejection::InsufficientBalance { price: record.price, balance }.into()),
        }
    }

    /// Step 2, on the user's side: the deciding debit. The flag is true when an earlier request
    /// already debited; the number is how many holds of the concert the user still has unpaid.
    async fn debit(&self, record: &ReservationRecord, key: Option<&IdempotencyKey>, now_ms: u64) -> StoreResult<(Payment, bool, u64)> {
        let (k, user) = (&self.redis.keys, &record.user_id);
        let keys = vec![k.user_profile(user), k.user_payments(user), k.user_idempotency(user), k.user_claims(user, &record.concert_id)];
        let payment_id = record.payment_id.as_ref().ok_or_else(|| StoreError::Unexpected("a claimed hold without a payment id".into()))?;
        let args = vec![
            record.reservation_id.to_string(),
            payment_id.to_string(),
            record.price.to_string(),
            record.concert_id.to_string(),
            record.schedule_id.to_string(),
            record.seat_number.to_string(),
            user.to_string(),
            now_ms.to_string(),
            key.map(|k| format!("pay:{}", k.as_str())).unwrap_or_default(),
        ];
        match self.redis.run(&self.debit_payment, keys, args).await? {
            DebitReply::Paid { payment, live_holds } => Ok((payment, false, live_holds)),
            DebitReply::AlreadyPaid { payment, live_holds } => Ok((payment, true, live_holds)),
            DebitReply::Short { balance } => Err(Rejection::InsufficientBalance { price: record.price, balance }.into()),
            DebitReply::Void => {
                self.settle(&record.schedule_id, &record.reservation_id, Decision::Void, now_ms).await?;
                Err(Rejection::HoldExpired.into())
            }
            DebitReply::KeyReused => Err(Rejection::IdempotencyKeyReused.into()),
            DebitReply::NoUser => Err(Rejection::UserNotFound.into()),
        }
    }

    /// Runs step 1 and, with `debit`, step 2 of a payment, then stops as a crashed process would.
    /// Returns whether the debit happened.
    #[cfg(feature = "testing")]
    pub async fn pay_steps_for_tests(&self, ticket: &QueueTicket, reservation: &ReservationId, now_ms: u64, debit: bool) -> bool {
        let schedule: String =
            self.redis.client().hget(self.redis.keys.user_reservations(&ticket.user), reservation.as_str()).await.unwrap();
        let record = self.claim(&ScheduleId::parse(&schedule).unwrap(), reservation, ticket, None, now_ms).await.unwrap();
        debit && self.debit(&record, None, now_ms).await.is_ok()
    }

    /// Step 3, on the schedule's side. Returns the outbox entry when this call sold the seat.
    async fn settle(
        &self,
        schedule: &ScheduleId,
        reservation: &ReservationId,
        decision: Decision,
        at_ms: u64,
    ) -> StoreResult<Option<OutboxEntry>> {
        let k = &self.redis.keys;
        let keys = vec![
            k.schedule_seats(schedule),
            k.schedule_reservations(schedule),
            k.schedule_holds(schedule),
            k.schedule_outbox(schedule),
            k.schedule_meta(schedule),
            k.schedule_holders(schedule),
            k.schedule_refunds(schedule),
            k.schedule_finished(schedule),
            k.schedule_states(schedule),
        ];
        let event_id = format!("{:032x}", rand::random::<u128>());
        let args = vec![reservation.to_string(), decision.as_lua().to_owned(), at_ms.to_string(), event_id, rfc3339(at_ms)];
        match self.redis.run(&self.settle_payment, keys, args).await? {
            SettleReply::Sold { outbox_id, event, outbox_len } => {
                // The relay's list of schedules with events waiting (cleared once it drained them).
                self.redis.client().sadd::<(), _, _>(k.work_pending(), schedule.as_str()).await?;
                Ok(Some(OutboxEntry { schedule_id: schedule.clone(), id: outbox_id, event, oldest: outbox_len == 1 }))
            }
            SettleReply::Settled => Ok(None),
            SettleReply::Refused(rejection) => Err(rejection.into()),
            SettleReply::Orphaned => {
                tracing::error!(schedule = %schedule, reservation = %reservation, "a debited payment lost its hold: recorded for refund");
                Err(StoreError::Unexpected(format!(
                    "payment of reservation {reservation} was debited but its hold is gone; recorded for refund"
                )))
            }
        }
    }

    /// Releases every lapsed hold of one schedule. A lapsed hold with a payment attempt is settled
    /// through the user's side first (see the module docs). Reservations that ended unpaid more
    /// than the retention ago are forgotten.
    pub async fn sweep_schedule(&self, schedule: &ScheduleId, now_ms: u64) -> StoreResult<SweepReport> {
        let k = &self.redis.keys;
        let mut report = SweepReport::default();
        let cutoff = now_ms.saturating_sub(self.retention_ms);
        loop {
            let keys = vec![
                k.schedule_seats(schedule),
                k.schedule_reservations(schedule),
                k.schedule_holds(schedule),
                k.schedule_holders(schedule),
                k.schedule_finished(schedule),
                k.schedule_states(schedule),
            ];
            let args = vec![now_ms.to_string(), SWEEP_BATCH.to_string(), cutoff.to_string()];
            let reply: ExpireReply = self.redis.run(&self.expire_holds, keys, args).await?;
            report.released += reply.released;
            for (reservation, user) in &reply.attempted {
                let keys = vec![k.user_payments(user)];
                match self.redis.run(&self.void_payment, keys, vec![reservation.to_string()]).await? {
                    VoidReply::Void => {
                        self.settle(schedule, reservation, Decision::Void, now_ms).await?;
                        report.settled_void += 1;
                    }
                    VoidReply::Paid(payment) => {
                        self.settle(schedule, reservation, Decision::Paid, payment.paid_at).await?;
                        report.settled_paid += 1;
                    }
                }
            }
            if reply.released + (reply.attempted.len() as u64) < SWEEP_BATCH {
                return Ok(report);
            }
        }
    }

    /// The seats of `schedules` together: sold, live holds and the fans holding them. One round
    /// trip.
    pub async fn inventory(&self, schedules: &[ScheduleId], now_ms: u64) -> StoreResult<Inventory> {
        let k = &self.redis.keys;
        if schedules.is_empty() {
            return Ok(Inventory::default());
        }
        let pipe = self.redis.client().pipeline();
        for s in schedules {
            pipe.hmget::<(), _, _>(k.schedule_meta(s), vec!["seatCount", "sold"]).await?;
            pipe.zcount::<(), _>(k.schedule_holds(s), now_ms as f64 + 1.0, f64::INFINITY).await?;
            pipe.hlen::<(), _>(k.schedule_holders(s)).await?;
        }
        let answers: Vec<fred::types::Value> = pipe.all().await?;
        let mut total = Inventory::default();
        for chunk in answers.chunks(3) {
            let (seats, sold): (Option<u64>, Option<u64>) = chunk[0].clone().convert()?;
            total.seats += seats.unwrap_or(0);
            total.sold += sold.unwrap_or(0);
            total.held += chunk[1].clone().convert::<u64>()?;
            total.fans_holding += chunk[2].clone().convert::<u64>()?;
        }
        Ok(total)
    }

    /// The schedules with live holds, as holds marked them (between the sweeper's full rounds).
    pub async fn holding_schedules(&self) -> StoreResult<Vec<ScheduleId>> {
        let ids: Vec<String> = self.redis.client().smembers(self.redis.keys.work_holding()).await?;
        ids.iter().map(|id| parse_id(id)).collect()
    }

    /// Keeps `schedule` on the sweeper's list while it has holds, and takes it off when it has
    /// none. A hold made meanwhile puts it back (holds add after holding; this checks again after
    /// removing), so no schedule with a hold is left off.
    pub async fn track_holding(&self, schedule: &ScheduleId) -> StoreResult<()> {
        let k = &self.redis.keys;
        let holds: u64 = self.redis.client().zcard(k.schedule_holds(schedule)).await?;
        if holds == 0 {
            self.redis.client().srem::<(), _, _>(k.work_holding(), schedule.as_str()).await?;
            let holds: u64 = self.redis.client().zcard(k.schedule_holds(schedule)).await?;
            if holds == 0 {
                return Ok(());
            }
        }
        self.redis.client().sadd::<(), _, _>(k.work_holding(), schedule.as_str()).await?;
        Ok(())
    }

    /// Sweeps each of `schedules`, keeping the sweeper's list of schedules with holds true.
    pub async fn sweep(&self, schedules: &[ScheduleId], now_ms: u64) -> StoreResult<SweepReport> {
        let mut total = SweepReport::default();
        for schedule in schedules {
            total += self.sweep_schedule(schedule, now_ms).await?;
            self.track_holding(schedule).await?;
        }
        Ok(total)
    }
}
