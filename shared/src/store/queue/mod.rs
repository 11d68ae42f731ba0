//! The waiting rooms: one per concert, each under its own tag `{r:CONCERT}`, so rooms spread over
//! a Redis Cluster and a small show's fans never wait behind a stadium drop.
//!
//! A ticket waits in `waiting` (ordered by lottery key for the pre-queue, then by ticket number, so
//! nobody overtakes), is moved to `active` by an admission tick, and leaves `active` when its time
//! runs out, its holder leaves, or a payment leaves its holder with no live hold. Every operation
//! is O(log n) in the number of tickets; nothing scans. `{rooms}:live` lists the rooms with fans
//! in them, so the admission schedule's cost follows live rooms, not concerts ever created.
//!
//! - `fan.rs`: what a fan does: join, ask where they stand, leave.
//! - `tick.rs`: the admission tick and its settings.
//! - `operator.rs`: what an operator reads and changes.
//! - `autopilot.rs`: what the autopilot reads each tick, its decision, and the decision log.
//! - `door.rs`: the proof of work a room's door asks now.
//! - `codes.rs`: a room's presale codes.
//! - `forecast.rs`: the forecast of when each place is let in, made after each tick.
//! - `report.rs`: the counters the operator's report reads beyond the live view.
//! - `lottery.rs`: the pre-queue's lottery: the seed's commitment, the draw at the opening, and
//!   what anyone may read to check it.
//! - here: the store, the public line, the live rooms list and the rooms' settings.

mod autopilot;
mod codes;
mod door;
mod fan;
mod forecast;
mod lottery;
mod operator;
mod report;
mod tick;

pub use autopilot::{AutopilotInputs, LoggedDecision};
pub use codes::CodesAdded;
pub use door::DoorNow;
pub use fan::{AtTheDoor, Joined};
pub use lottery::PublicLottery;
pub use operator::{RoomSnapshot, HEALTH_SECONDS};
pub use report::QueueFigures;
pub use tick::{Admission, TickReport};

use std::collections::HashMap;

use fred::prelude::*;

use super::gate::Gate;
pub use super::gate::Left;
use super::health::HealthStore;
use super::script::{parse_id, parse_u64, LuaScript, Redis, Script};
use super::{StoreError, StoreResult};
use crate::domain::admin::SaleTimes;
use crate::domain::challenge::MAX_BITS;
use crate::domain::forecast::Forecast;
use crate::domain::ids::ConcertId;
use crate::domain::queue::{LineAhead, RoomSettings, SeatsAhead};

/// What [`QueueStore::line`] reads: the public part of a room's line.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicLine {
    pub admitted_total: u64,
    /// How fast the line moves and the seats it can count on, as the last tick measured them.
    pub ahead: LineAhead,
    pub waiting: u64,
    /// The room's own setting; `None`: the environment's.
    pub admit_per_tick: Option<u64>,
    /// The commitment to the pre-queue lottery's seed (see `lottery.rs`).
    pub lottery_commitment: Option<String>,
}

pub struct QueueStore {
    redis: Redis,
    /// How long a sold-out room's places are kept after its last fan left.
    retention_ms: u64,
    gate: Gate,
    /// The booking path's health, which the autopilot reads with the room's state.
    health: HealthStore,
}

impl QueueStore {
    pub(crate) fn new(redis: Redis, retention_ms: u64) -> Self {
        QueueStore { retention_ms, gate: Gate::new(redis.clone()), health: HealthStore::new(redis.clone()), redis }
    }

    pub(crate) fn scripts() -> Vec<&'static LuaScript> {
        vec![fan::JoinRoom::lua(), fan::RoomStatus::lua(), tick::RoomTick::lua(), operator::UpdateRoom::lua(), codes::AddCodes::lua()]
    }

    /// Opens a concert's room with its sale times and its lottery's seed (at concert creation).
    pub(crate) async fn open_room(&self, concert: &ConcertId, sale: SaleTimes, now_ms: u64) -> StoreResult<()> {
        let mut fields = vec![("prequeueOpensAt", sale.prequeue_opens_at_ms.to_string()), ("opensAt", sale.opens_at_ms.to_string())];
        fields.extend(Self::new_lottery(now_ms));
        self.redis.client().hset::<(), _, _>(self.redis.keys.room_settings(concert), fields).await?;
        Ok(())
    }

    /// The line as everyone may see it: fans admitted since the opening, the measured admission
    /// rate, the places waiting, the room's own `admitPerTick` if it has one and the commitment to
    /// its lottery's seed. One round trip.
    pub async fn line(&self, concert: &ConcertId) -> StoreResult<PublicLine> {
        let k = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        let fields: Vec<&str> = std::iter::once("admitted").chain(LINE_FIELDS).collect();
        pipe.hmget::<(), _, _>(k.room_stats(concert), fields).await?;
        pipe.zcard::<(), _>(k.room_waiting(concert)).await?;
        pipe.hmget::<(), _, _>(k.room_settings(concert), vec!["admitPerTick", "lotteryCommitment"]).await?;
        type Answers = (Vec<Option<String>>, u64, (Option<u64>, Option<String>));
        let (stats, waiting, (admit_per_tick, lottery_commitment)): Answers = pipe.all().await?;
        let field = |i: usize| stats.get(i).and_then(|v| v.as_deref());
        Ok(PublicLine {
            admitted_total: field(0).map(parse_u64).transpose()?.unwrap_or(0),
            ahead: line_ahead(std::array::from_fn(|i| field(i + 1))),
            waiting,
            admit_per_tick,
            lottery_commitment,
        })
    }

    /// The rooms with fans in them.
    pub async fn live_rooms(&self) -> StoreResult<Vec<ConcertId>> {
        let ids: Vec<String> = self.redis.client().smembers(self.redis.keys.rooms_live()).await?;
        ids.iter().map(|id| parse_id(id)).collect()
    }

    /// Takes an empty room off the live list. A fan joining at the same moment adds it back
    /// (joining adds after placing, and this checks again after removing), so no room with fans
    /// is ever left off. A sold-out room's places (tickets, holders, join times) then expire after
    /// the retention; its settings, totals and change log stay for the operators.
    pub async fn retire_if_empty(&self, concert: &ConcertId) -> StoreResult<bool> {
        let k = &self.redis.keys;
        self.redis.client().srem::<(), _, _>(k.rooms_live(), concert.as_str()).await?;
        let pipe = self.redis.client().pipeline();
        pipe.zcard::<(), _>(k.room_waiting(concert)).await?;
        pipe.zcard::<(), _>(k.room_active(concert)).await?;
        pipe.hget::<(), _, _>(k.room_settings(concert), "soldOut").await?;
        let (waiting, active, sold_out): (u64, u64, Option<String>) = pipe.all().await?;
        if waiting + active > 0 {
            self.redis.client().sadd::<(), _, _>(k.rooms_live(), concert.as_str()).await?;
            return Ok(false);
        }
        if sold_out.as_deref() == Some("1") {
            let pipe = self.redis.client().pipeline();
            for key in [k.room_holder(concert), k.room_seq(concert), k.room_fans(concert), k.room_draw(concert)] {
                pipe.pexpire::<(), _>(key, self.retention_ms as i64, None).await?;
            }
            let _: Vec<i64> = pipe.all().await?;
        }
        Ok(true)
    }

    /// The settings of each of `concerts`' rooms, in order (`None` for a concert without one).
    pub async fn settings(&self, concerts: &[&ConcertId]) -> StoreResult<Vec<Option<RoomSettings>>> {
        if concerts.is_empty() {
            return Ok(Vec::new());
        }
        let pipe = self.redis.client().pipeline();
        for c in concerts {
            pipe.hgetall::<(), _>(self.redis.keys.room_settings(c)).await?;
        }
        let raws: Vec<HashMap<String, String>> = pipe.all().await?;
        raws.iter().map(|raw| if raw.is_empty() { Ok(None) } else { parse_settings(raw).map(Some) }).collect()
    }
}

/// The stats' fields [`LINE_FIELDS`] (as `room_tick.lua` writes them; missing or empty until a
/// tick measured them) as a [`LineAhead`].
fn line_ahead(fields: [Option<&str>; 8]) -> LineAhead {
    let forecast = fields[7].and_then(Forecast::parse);
    let [recent, pace, headroom, bound, per_fan, if_paid, if_lapse] =
        std::array::from_fn(|i| fields[i].and_then(|v| v.parse::<f64>().ok()));
    let seats = match (per_fan, if_paid, if_lapse) {
        (Some(per_fan), Some(if_holds_paid), Some(if_holds_lapse)) => Some(SeatsAhead { per_fan, if_holds_paid, if_holds_lapse }),
        _ => None,
    };
    LineAhead { admitted_per_second: recent, pace, headroom: headroom.map(|h| h as u64), bound_rate: bound, seats, forecast }
}

/// The stats' fields a [`LineAhead`] is read from, in [`line_ahead`]'s order.
const LINE_FIELDS: [&str; 8] =
    ["rate", "admitPace", "headroom", "rateBound", "seatsPerFan", "seatsIfHoldsPaid", "seatsIfHoldsLapse", "forecast"];

/// A room's settings hash as [`RoomSettings`].
fn parse_settings(raw: &HashMap<String, String>) -> StoreResult<RoomSettings> {
    let number = |name: &str| raw.get(name).map(|v| v.parse::<u64>()).transpose();
    let bad = |e| StoreError::Unexpected(format!("room settings {raw:?}: {e}"));
    Ok(RoomSettings {
        prequeue_opens_at_ms: number("prequeueOpensAt").map_err(bad)?.unwrap_or(0),
        opens_at_ms: number("opensAt").map_err(bad)?.unwrap_or(0),
        admit_per_tick: number("admitPerTick").map_err(bad)?,
        active_cap: number("activeCap").map_err(bad)?,
        overbooking: raw.get("overbooking").and_then(|v| v.parse().ok()),
        autopilot: raw.get("autopilot").map(|v| v == "1"),
        target_p95_ms: number("targetP95Ms").map_err(bad)?,
        pow_min_bits: number("powMinBits").map_err(bad)?.map(|b| b.min(u64::from(MAX_BITS)) as u8),
        pow_max_bits: number("powMaxBits").map_err(bad)?.map(|b| b.min(u64::from(MAX_BITS)) as u8),
        presale: raw.get("presale").is_some_and(|v| v == "1"),
        paused: raw.get("paused").is_some_and(|v| v == "1"),
        opened: raw.get("opened").is_some_and(|v| v == "1"),
        sold_out: raw.get("soldOut").is_some_and(|v| v == "1"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rooms_settings_hash_reads_with_its_defaults_and_a_bad_number_is_a_bug() {
        let raw = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<HashMap<_, _>>();
        let s = parse_settings(&raw(&[("opensAt", "2000"), ("admitPerTick", "7"), ("paused", "1"), ("autopilot", "0")])).unwrap();
        assert_eq!((s.prequeue_opens_at_ms, s.opens_at_ms, s.admit_per_tick, s.active_cap), (0, 2000, Some(7), None));
        assert_eq!((s.paused, s.opened, s.autopilot, s.target_p95_ms), (true, false, Some(false), None));
        assert!(parse_settings(&raw(&[("activeCap", "many")])).is_err());
    }
}
