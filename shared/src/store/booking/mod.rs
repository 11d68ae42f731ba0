//! Seats, holds and payments, under each schedule's tag `{s:ID}` (and the user's `{u:ID}` for the
//! money).
//!
//! - `seats.rs`: the seat listing, with the schedules' shapes cached per process.
//! - `hold.rs`: holding a seat (the per-fan cap on the user's side, then the seat).
//! - `pay.rs`: the payment saga below.
//! - `sweep.rs`: releasing lapsed holds, and finishing payments a crash left half done.
//! - `replies.rs`: the refusals and reservation answers the schedule-side scripts share.
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

mod hold;
mod pay;
mod replies;
mod seats;
mod sweep;

pub use hold::HoldPolicy;
pub(crate) use hold::{ClaimSeat, HoldSeat};
pub use pay::Paid;
pub(crate) use pay::{ClaimPayment, DebitPayment};
pub use sweep::SweepReport;

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use fred::prelude::*;

use super::gate::Gate;
use super::script::{LuaScript, Redis, Script};
use super::{Keys, StoreResult};
use crate::domain::forecast::HoldOutlook;
use crate::domain::ids::{ConcertId, ScheduleId};
use crate::domain::queue::Inventory;
use crate::domain::report::SecondsHistogram;

pub struct BookingStore {
    redis: Redis,
    /// How long an unpaid reservation's record is kept after it ended.
    retention_ms: u64,
    gate: Gate,
    /// Each schedule's seat count and concert, as its meta gave them: neither changes once the
    /// schedule is created, so a listing reads them once per process, and asks Redis for the
    /// hall's seats only, not for every number up to the page's limit.
    shapes: RwLock<HashMap<ScheduleId, (u32, ConcertId)>>,
}

/// The keys of a seat's state, which every script that takes, sells or frees a seat writes together
/// (`hold_seat`, `settle_payment`, `expire_holds`), in the order each binds them.
fn seat_state_keys(k: &Keys, s: &ScheduleId) -> Vec<String> {
    vec![
        k.schedule_seats(s),
        k.schedule_reservations(s),
        k.schedule_holds(s),
        k.schedule_holders(s),
        k.schedule_finished(s),
        k.schedule_states(s),
    ]
}

/// The most live holds of each schedule the forecast reads (the earliest to lapse): a line bound
/// by more holds than this is forecast as far as these reach.
pub const HOLDS_FORECAST: i64 = 2_000;

impl BookingStore {
    pub(crate) fn new(redis: Redis, retention_ms: u64) -> Self {
        BookingStore { retention_ms, gate: Gate::new(redis.clone()), redis, shapes: RwLock::new(HashMap::new()) }
    }

    pub(crate) fn scripts() -> Vec<&'static LuaScript> {
        vec![
            ClaimSeat::lua(),
            HoldSeat::lua(),
            ClaimPayment::lua(),
            DebitPayment::lua(),
            pay::VoidPayment::lua(),
            pay::SettlePayment::lua(),
            sweep::ExpireHolds::lua(),
        ]
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

    /// What the waiting room's forecast needs of `schedules`' holds (`domain::forecast`): the
    /// expiries of the earliest [`HOLDS_FORECAST`] live holds of each, the seats lapsed and sold,
    /// and how long paid holds took. One round trip.
    pub async fn hold_outlook(&self, schedules: &[ScheduleId], now_ms: u64) -> StoreResult<HoldOutlook> {
        self.read_holds(schedules, Some(now_ms)).await
    }

    /// What the operator's report needs of `schedules`' holds: the seats lapsed and sold and how
    /// long paid holds took, without the live holds' expiries. One round trip.
    pub async fn hold_history(&self, schedules: &[ScheduleId]) -> StoreResult<HoldOutlook> {
        self.read_holds(schedules, None).await
    }

    /// Each schedule's meta counters, and with `live_after_ms` its live holds' expiries.
    async fn read_holds(&self, schedules: &[ScheduleId], live_after_ms: Option<u64>) -> StoreResult<HoldOutlook> {
        let mut total = HoldOutlook::default();
        if schedules.is_empty() {
            return Ok(total);
        }
        let k = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        for s in schedules {
            pipe.hgetall::<(), _>(k.schedule_meta(s)).await?;
            if let Some(after) = live_after_ms {
                let limit = Some((0, HOLDS_FORECAST));
                pipe.zrangebyscore::<(), _, _, _>(k.schedule_holds(s), (after + 1) as f64, f64::INFINITY, true, limit).await?;
            }
        }
        let answers: Vec<fred::types::Value> = pipe.all().await?;
        for chunk in answers.chunks(if live_after_ms.is_some() { 2 } else { 1 }) {
            let meta: HashMap<String, String> = chunk[0].clone().convert()?;
            let holds: Vec<(String, f64)> = match chunk.get(1) {
                Some(holds) => holds.clone().convert()?,
                None => Vec::new(),
            };
            let count = |name: &str| meta.get(name).and_then(|v| v.parse().ok()).unwrap_or(0);
            total.add(HoldOutlook {
                expiries_ms: holds.into_iter().map(|(_, expiry)| expiry as u64).collect(),
                lapsed: count("lapsed"),
                sold: count("sold"),
                paid_in: SecondsHistogram::from_fields(
                    "paidIn:",
                    meta.iter().filter_map(|(name, v)| Some((name.as_str(), v.parse().ok()?))),
                ),
                // Set by the caller, who knows every live hold (`Inventory::held`).
                unread: 0,
            });
        }
        Ok(total)
    }

    /// The fans who held a seat and the fans who bought one in `schedules`: each schedule counts
    /// them in a HyperLogLog (within about 1 %), summed here, so a fan of two schedules counts in
    /// both. One round trip.
    pub async fn fans_who_held_and_bought(&self, schedules: &[ScheduleId]) -> StoreResult<(u64, u64)> {
        if schedules.is_empty() {
            return Ok((0, 0));
        }
        let k = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        for s in schedules {
            pipe.pfcount::<(), _>(k.schedule_held_by(s)).await?;
            pipe.pfcount::<(), _>(k.schedule_bought_by(s)).await?;
        }
        let counts: Vec<u64> = pipe.all().await?;
        Ok(counts.chunks(2).fold((0, 0), |(held, bought), c| (held + c[0], bought + c[1])))
    }

    /// Seats sold per minute (epoch minute → seats) over `schedules`, as the payments' last step
    /// counted them (`settle_payment.lua`): one small hash per schedule, one round trip.
    pub async fn sales_by_minute(&self, schedules: &[ScheduleId]) -> StoreResult<BTreeMap<u64, u64>> {
        let mut minutes = BTreeMap::new();
        if schedules.is_empty() {
            return Ok(minutes);
        }
        let pipe = self.redis.client().pipeline();
        for s in schedules {
            pipe.hgetall::<(), _>(self.redis.keys.schedule_minutes(s)).await?;
        }
        let all: Vec<HashMap<u64, u64>> = pipe.all().await?;
        for (minute, seats) in all.into_iter().flatten() {
            *minutes.entry(minute).or_default() += seats;
        }
        Ok(minutes)
    }
}
