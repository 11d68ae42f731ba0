//! The waiting rooms: one per concert, each under its own tag `{r:CONCERT}`, so rooms spread over
//! a Redis Cluster and a small show's fans never wait behind a stadium drop.
//!
//! A ticket waits in `waiting` (ordered by lottery key for the pre-queue, then by ticket number, so
//! nobody overtakes), is moved to `active` by an admission tick, and leaves `active` when its time
//! runs out, its holder leaves, or a payment leaves its holder with no live hold. Every operation
//! is O(log n) in the number of tickets; nothing scans. `{rooms}:live` lists the rooms with fans
//! in them, so the admission schedule's cost follows live rooms, not concerts ever created.

use std::collections::HashMap;

use fred::clients::Pipeline;
use fred::prelude::*;

use super::script::{from_json, lua, parse_id, parse_u64, FromReply, LuaScript, Redis, Reply};
use super::{Rejection, StoreError, StoreResult};
use crate::domain::ids::{ConcertId, UserId};
use crate::domain::inputs::{RoomUpdate, SaleTimes};
use crate::domain::models::{rfc3339, Concert, SaleWindow};
use crate::domain::queue::{eta_seconds, Inventory, QueuePosition, RoomSettings, RoomStatus};
use crate::domain::tokens::QueueTicket;

/// What one admission tick of one room did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// False when another invocation already ran this tick number.
    pub ran: bool,
    pub admitted: u64,
    pub expired_active: u64,
    pub dropped_idle: u64,
    pub still_waiting: u64,
    pub active: u64,
    /// This tick found every seat sold, told the line and released the ACTIVE slots.
    pub sold_out_now: bool,
    /// How many calls of `room_tick.lua` the tick took (each moves at most one step of tickets).
    pub steps: u64,
    /// The script's answer: the tick has admissions left, call again.
    more: bool,
}

impl TickReport {
    /// Adds a later step's answer to the tick's report.
    fn add_step(&mut self, step: TickReport) {
        self.admitted += step.admitted;
        self.dropped_idle += step.dropped_idle;
        self.still_waiting = step.still_waiting;
        self.active = step.active;
        self.steps += 1;
        self.more = step.more;
    }
}

/// The environment's admission settings: the defaults of every room an operator has not tuned,
/// and the lifetimes that apply to all.
#[derive(Clone, Copy, Debug)]
pub struct Admission {
    pub admit_per_tick: u64,
    pub active_cap: u64,
    pub overbooking: f64,
    pub active_ttl_ms: u64,
    pub wait_idle_ms: u64,
    /// A place unseen this long is dropped wherever it stands (`WAIT_ABANDON_SECONDS`).
    pub wait_abandon_ms: u64,
    pub tick_ms: u64,
    /// The most tickets one call of the tick script moves (`ADMIT_STEP`).
    pub step: u64,
}

/// Where a ticket was when its holder left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Left {
    Waiting,
    Active,
    /// Already gone (left before, dropped, admitted time over): leaving again is harmless.
    Gone,
}

/// A room as its operator sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct RoomSnapshot {
    pub settings: RoomSettings,
    pub waiting: u64,
    pub active: u64,
    pub admitted_total: u64,
    pub dropped_total: u64,
    /// Fans admitted per second, as measured over recent ticks.
    pub admitted_per_second: Option<f64>,
    /// How long the front of the line has waited.
    pub oldest_wait_ms: Option<u64>,
    pub sold_out_at_ms: Option<u64>,
    /// The waiting fans told at the sold-out tick.
    pub sold_out_waiting: Option<u64>,
    /// The last operator changes, newest first.
    pub changes: Vec<serde_json::Value>,
}

/// A room as the operator API reports it.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomReport {
    pub concert_id: ConcertId,
    pub title: String,
    pub status: RoomStatus,
    pub sale: SaleWindow,
    /// What applies from the next tick: the room's own settings, or the environment's.
    pub admit_per_tick: u64,
    pub active_cap: u64,
    pub overbooking: f64,
    pub paused: bool,
    pub waiting: u64,
    pub active: u64,
    pub admitted_total: u64,
    pub dropped_total: u64,
    pub admitted_per_second: Option<f64>,
    pub oldest_wait_seconds: Option<u64>,
    /// When the last fan in line would be admitted at the observed rate.
    pub last_in_line_eta_seconds: Option<u64>,
    pub seats: SeatCounts,
    pub sold_out_at: Option<String>,
    /// How many waiting fans the sold-out tick told.
    pub sold_out_waiting: Option<u64>,
    /// The last operator changes, newest first, each with its old and new values.
    pub changes: Vec<serde_json::Value>,
}

#[derive(Clone, Copy, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatCounts {
    pub total: u64,
    pub available: u64,
    pub held: u64,
    pub sold: u64,
}

impl RoomReport {
    pub(crate) fn new(concert: &Concert, s: RoomSnapshot, inventory: Inventory, now_ms: u64, defaults: Admission) -> RoomReport {
        let settings = &s.settings;
        RoomReport {
            concert_id: concert.concert_id.clone(),
            title: concert.title.clone(),
            status: settings.status(now_ms, concert.last_start_ms()),
            sale: SaleWindow { prequeue_opens_at: rfc3339(settings.prequeue_opens_at_ms), opens_at: rfc3339(settings.opens_at_ms) },
            admit_per_tick: settings.admit_per_tick.unwrap_or(defaults.admit_per_tick),
            active_cap: settings.active_cap.unwrap_or(defaults.active_cap),
            overbooking: settings.overbooking.unwrap_or(defaults.overbooking),
            paused: settings.paused,
            waiting: s.waiting,
            active: s.active,
            admitted_total: s.admitted_total,
            dropped_total: s.dropped_total,
            admitted_per_second: s.admitted_per_second,
            oldest_wait_seconds: s.oldest_wait_ms.map(|ms| ms / 1000),
            last_in_line_eta_seconds: eta_seconds(s.waiting, s.admitted_per_second),
            seats: SeatCounts { total: inventory.seats, available: inventory.available(), held: inventory.held, sold: inventory.sold },
            sold_out_at: s.sold_out_at_ms.map(rfc3339),
            sold_out_waiting: s.sold_out_waiting,
            changes: s.changes,
        }
    }
}

/// `join_room.lua`'s answer.
enum JoinReply {
    Created(u64),
    Existing(u64),
    NotOpen { prequeue_opens_at_ms: u64 },
    SoldOut,
    NoRoom,
}

impl FromReply for JoinReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "CREATED" => JoinReply::Created(reply.number()?),
            "EXISTING" => JoinReply::Existing(reply.number()?),
            "NOT_OPEN" => JoinReply::NotOpen { prequeue_opens_at_ms: reply.number()? },
            "SOLD_OUT" => JoinReply::SoldOut,
            "NO_ROOM" => JoinReply::NoRoom,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// `room_status.lua`'s answer.
impl FromReply for QueuePosition {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "ACTIVE" => QueuePosition::Active { expires_at_ms: reply.number()? },
            "PREQUEUE" => QueuePosition::Prequeue { opens_at_ms: reply.number()? },
            "WAITING" => QueuePosition::Waiting {
                position: reply.number()?,
                admitted_per_second: reply.text()?.parse().ok(),
                paused: reply.text()? == "1",
                place: reply.number()?,
            },
            "SOLD_OUT" => QueuePosition::SoldOut,
            "EXPIRED" => QueuePosition::Expired,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// `room_tick.lua`'s answer.
impl FromReply for TickReport {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(TickReport {
            ran: bool::from_reply(reply)?,
            admitted: reply.number()?,
            expired_active: reply.number()?,
            dropped_idle: reply.number()?,
            still_waiting: reply.number()?,
            active: reply.number()?,
            sold_out_now: bool::from_reply(reply)?,
            steps: 1,
            more: bool::from_reply(reply)?,
        })
    }
}

/// What [`QueueStore::line`] reads: the public part of a room's line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PublicLine {
    pub admitted_total: u64,
    pub admitted_per_second: Option<f64>,
    pub waiting: u64,
    /// The room's own setting; `None`: the environment's.
    pub admit_per_tick: Option<u64>,
}

/// `leave_room.lua`'s answer.
impl FromReply for Left {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "WAITING" => Left::Waiting,
            "ACTIVE" => Left::Active,
            "GONE" => Left::Gone,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// `update_room.lua`'s answer: the logged change, or why none was made.
enum UpdateReply {
    Changed(serde_json::Value),
    NoRoom,
    AlreadyOpen,
    BadWindow,
}

impl FromReply for UpdateReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "OK" => UpdateReply::Changed(reply.json()?),
            "NO_ROOM" => UpdateReply::NoRoom,
            "ALREADY_OPEN" => UpdateReply::AlreadyOpen,
            "BAD_WINDOW" => UpdateReply::BadWindow,
            _ => return Err(reply.unexpected()),
        })
    }
}

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
        paused: raw.get("paused").is_some_and(|v| v == "1"),
        opened: raw.get("opened").is_some_and(|v| v == "1"),
        sold_out: raw.get("soldOut").is_some_and(|v| v == "1"),
    })
}

/// What [`Gate::queue_in`] adds to a pipeline's answers: the ticket's ACTIVE expiry and the
/// token user's latest ticket in the room.
pub(crate) type GateAnswer = (Option<f64>, Option<u64>);

/// The check the booking endpoints make: is this ticket ACTIVE now in its concert's room? Reads
/// only, so it rides in the pipeline of the read it guards ([`Gate::queue_in`]) and costs no extra
/// round trip.
#[derive(Clone)]
pub struct Gate {
    redis: Redis,
    leave_room: LuaScript,
}

impl Gate {
    pub(crate) fn new(redis: Redis) -> Self {
        Gate { redis, leave_room: lua!("leave_room") }
    }

    /// Queues the ACTIVE check of `ticket` in a pipeline (two answers: the ticket's ACTIVE expiry
    /// and the user's latest ticket, which it must be); [`Gate::judge`] reads them.
    pub(crate) async fn queue_in(&self, pipe: &Pipeline<Client>, ticket: &QueueTicket) -> StoreResult<()> {
        pipe.zscore::<(), _, _>(self.redis.keys.room_active(&ticket.concert), ticket.number).await?;
        pipe.hget::<(), _, _>(self.redis.keys.room_holder(&ticket.concert), ticket.user.compact()).await?;
        Ok(())
    }

    /// Passes a live ACTIVE ticket of the token's own user; otherwise tells a waiting ticket (keep
    /// polling) from a sold-out room and from an ended ticket (take a new one).
    pub(crate) async fn judge(&self, answer: GateAnswer, ticket: &QueueTicket, now_ms: u64) -> StoreResult<()> {
        let (active_until, latest) = answer;
        let owned = latest == Some(ticket.number);
        if owned && active_until.is_some_and(|until| until > now_ms as f64) {
            return Ok(());
        }
        let keys = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.zscore::<(), _, _>(keys.room_waiting(&ticket.concert), ticket.number).await?;
        pipe.hget::<(), _, _>(keys.room_settings(&ticket.concert), "soldOut").await?;
        let (waiting, sold_out): (Option<f64>, Option<String>) = pipe.all().await?;
        Err(match (sold_out.as_deref(), waiting) {
            (Some("1"), _) => Rejection::SoldOut,
            (_, Some(_)) if owned => Rejection::QueueTokenNotActive,
            _ => Rejection::QueueTokenEnded,
        }
        .into())
    }

    /// Takes `ticket` out of its room (`leave_room.lua`): its place or its ACTIVE slot goes to the
    /// next in line. Only while it is its user's latest ticket: an older token ends nothing.
    pub(crate) async fn leave(&self, ticket: &QueueTicket) -> StoreResult<Left> {
        let (k, c) = (&self.redis.keys, &ticket.concert);
        let keys = vec![k.room_waiting(c), k.room_active(c), k.room_holder(c)];
        self.redis.run(&self.leave_room, keys, vec![ticket.user.compact(), ticket.number.to_string()]).await
    }

    /// Ends a ticket whose holder paid and holds nothing more, as leaving does.
    pub(crate) async fn end(&self, ticket: &QueueTicket) -> StoreResult<()> {
        self.leave(ticket).await.map(drop)
    }
}

pub struct QueueStore {
    redis: Redis,
    /// How long a sold-out room's places are kept after its last fan left.
    retention_ms: u64,
    gate: Gate,
    join_room: LuaScript,
    room_status: LuaScript,
    room_tick: LuaScript,
    update_room: LuaScript,
}

impl QueueStore {
    pub(crate) fn new(redis: Redis, retention_ms: u64) -> Self {
        QueueStore {
            retention_ms,
            gate: Gate::new(redis.clone()),
            redis,
            join_room: lua!("join_room"),
            room_status: lua!("room_status"),
            room_tick: lua!("room_tick"),
            update_room: lua!("update_room"),
        }
    }

    pub(crate) fn scripts(&self) -> Vec<&LuaScript> {
        vec![&self.join_room, &self.room_status, &self.room_tick, &self.gate.leave_room, &self.update_room]
    }

    /// Opens a concert's room with its sale times (at concert creation).
    pub(crate) async fn open_room(&self, concert: &ConcertId, sale: SaleTimes) -> StoreResult<()> {
        let fields = vec![("prequeueOpensAt", sale.prequeue_opens_at_ms.to_string()), ("opensAt", sale.opens_at_ms.to_string())];
        self.redis.client().hset::<(), _, _>(self.redis.keys.room_settings(concert), fields).await?;
        Ok(())
    }

    /// Takes a place in `concert`'s room. A user whose ticket there is still waiting or ACTIVE
    /// gets it back (`created` false) and keeps their place.
    pub async fn join(&self, user: &UserId, concert: &ConcertId, now_ms: u64) -> StoreResult<(QueueTicket, bool)> {
        let k = &self.redis.keys;
        let keys = vec![
            k.room_seq(concert),
            k.room_waiting(concert),
            k.room_fans(concert),
            k.room_active(concert),
            k.room_holder(concert),
            k.room_settings(concert),
        ];
        // A uniform key in [0, 1) with 53 random bits: exact in a Redis score.
        let lottery = (rand::random::<u64>() >> 11) as f64 / (1u64 << 53) as f64;
        let args = vec![user.compact(), now_ms.to_string(), lottery.to_string()];
        let (number, created) = match self.redis.run(&self.join_room, keys, args).await? {
            JoinReply::Created(n) => (n, true),
            JoinReply::Existing(n) => (n, false),
            JoinReply::NotOpen { prequeue_opens_at_ms } => return Err(Rejection::SaleNotOpen { prequeue_opens_at_ms }.into()),
            JoinReply::SoldOut => return Err(Rejection::SoldOut.into()),
            JoinReply::NoRoom => return Err(Rejection::ConcertNotFound.into()),
        };
        if created {
            // After the place exists, so a tick that retires the room in between sees it (see
            // `retire_if_empty`).
            self.redis.client().sadd::<(), _, _>(k.rooms_live(), concert.as_str()).await?;
        }
        Ok((QueueTicket { user: user.clone(), concert: concert.clone(), number }, created))
    }

    /// Where a ticket stands. A waiting ticket's check counts as the sign of life that keeps it
    /// from being dropped as abandoned.
    pub async fn position(&self, ticket: &QueueTicket, now_ms: u64) -> StoreResult<QueuePosition> {
        let (k, c) = (&self.redis.keys, &ticket.concert);
        let keys = vec![k.room_waiting(c), k.room_fans(c), k.room_active(c), k.room_stats(c), k.room_settings(c), k.room_holder(c)];
        let args = vec![ticket.number.to_string(), now_ms.to_string(), ticket.user.compact(), (now_ms / 1000).to_string()];
        self.redis.run(&self.room_status, keys, args).await
    }

    /// The line as everyone may see it: fans admitted since the opening, the measured admission
    /// rate, the places waiting and the room's own `admitPerTick` if it has one. One round trip.
    pub async fn line(&self, concert: &ConcertId) -> StoreResult<PublicLine> {
        let k = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.hmget::<(), _, _>(k.room_stats(concert), vec!["admitted", "rate"]).await?;
        pipe.zcard::<(), _>(k.room_waiting(concert)).await?;
        pipe.hget::<(), _, _>(k.room_settings(concert), "admitPerTick").await?;
        let ((admitted, rate), waiting, admit_per_tick): ((Option<String>, Option<String>), u64, Option<u64>) = pipe.all().await?;
        Ok(PublicLine {
            admitted_total: admitted.as_deref().map(parse_u64).transpose()?.unwrap_or(0),
            admitted_per_second: rate.and_then(|r| r.parse().ok()),
            waiting,
            admit_per_tick,
        })
    }

    /// Leaves the room.
    pub async fn leave(&self, ticket: &QueueTicket) -> StoreResult<Left> {
        self.gate.leave(ticket).await
    }

    /// Runs the admission tick of one room whose period starts at `tick` (epoch ms; see
    /// `schedule::tick_start`), knowing its `inventory`, in calls that each move at most
    /// `a.step` tickets (see `room_tick.lua`): between them Redis serves everyone else. Overlapping
    /// callers share the tick's stored budget, so the tick admits its exact total once; a tick
    /// not after the last one run does nothing.
    pub async fn tick(&self, concert: &ConcertId, tick: u64, now_ms: u64, a: Admission, inventory: Inventory) -> StoreResult<TickReport> {
        let k = &self.redis.keys;
        let keys = vec![
            k.room_waiting(concert),
            k.room_fans(concert),
            k.room_active(concert),
            k.room_holder(concert),
            k.room_stats(concert),
            k.room_settings(concert),
            k.room_seq(concert),
        ];
        let args = vec![
            tick.to_string(),
            now_ms.to_string(),
            a.admit_per_tick.to_string(),
            a.active_cap.to_string(),
            a.overbooking.to_string(),
            a.active_ttl_ms.to_string(),
            now_ms.saturating_sub(a.wait_abandon_ms.max(a.wait_idle_ms)).to_string(),
            a.tick_ms.to_string(),
            a.step.max(1).to_string(),
            inventory.available().to_string(),
            inventory.fans_holding.to_string(),
            if inventory.sold_out() { "1" } else { "0" }.to_string(),
            now_ms.saturating_sub(a.wait_idle_ms).to_string(),
        ];
        let started = std::time::Instant::now();
        let mut report: TickReport = self.redis.run(&self.room_tick, keys.clone(), args.clone()).await?;
        // Each step takes tickets off the line or ends the tick, so this ends. The room's own
        // settings (which may be far above the environment's) decide how many steps; the period
        // bounds them, as the next tick starts afresh anyway.
        while report.more && started.elapsed().as_millis() < u128::from(a.tick_ms) {
            let step: TickReport = self.redis.run(&self.room_tick, keys.clone(), args.clone()).await?;
            report.add_step(step);
        }
        Ok(report)
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
            for key in [k.room_holder(concert), k.room_seq(concert), k.room_fans(concert)] {
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

    /// Applies an operator's change from the next tick; returns the logged change.
    pub async fn update(&self, concert: &ConcertId, update: &RoomUpdate, now_ms: u64) -> StoreResult<serde_json::Value> {
        let k = &self.redis.keys;
        let changes: serde_json::Map<String, serde_json::Value> =
            update.0.iter().map(|(field, value)| (field.to_string(), value.clone().into())).collect();
        let args = vec![now_ms.to_string(), serde_json::Value::Object(changes).to_string()];
        match self.redis.run(&self.update_room, vec![k.room_settings(concert), k.room_changes(concert)], args).await? {
            UpdateReply::Changed(change) => Ok(change),
            UpdateReply::NoRoom => Err(Rejection::ConcertNotFound.into()),
            UpdateReply::AlreadyOpen => Err(Rejection::SaleAlreadyOpen.into()),
            UpdateReply::BadWindow => Err(Rejection::BadSaleWindow.into()),
        }
    }

    /// Everything an operator watches of a room. One round trip.
    pub async fn snapshot(&self, concert: &ConcertId, now_ms: u64) -> StoreResult<RoomSnapshot> {
        let k = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.hgetall::<(), _>(k.room_settings(concert)).await?;
        pipe.zcard::<(), _>(k.room_waiting(concert)).await?;
        pipe.zcount::<(), _>(k.room_active(concert), now_ms as f64, f64::INFINITY).await?;
        pipe.hgetall::<(), _>(k.room_stats(concert)).await?;
        pipe.zrange::<(), _, _, _>(k.room_waiting(concert), 0, 0, None, false, None, false).await?;
        pipe.lrange::<(), _>(k.room_changes(concert), 0, 49).await?;
        type Answers = (HashMap<String, String>, u64, u64, HashMap<String, String>, Vec<String>, Vec<String>);
        let (settings, waiting, active, stats, front, changes): Answers = pipe.all().await?;
        if settings.is_empty() {
            return Err(Rejection::ConcertNotFound.into());
        }
        let oldest_wait_ms = match front.first() {
            Some(ticket) => {
                // The front ticket's join time: the first 4 of its 8 bytes in `fans` (seconds).
                let at = 8 * parse_u64(ticket)? as usize;
                let raw: Vec<u8> = self.redis.client().getrange(k.room_fans(concert), at, at + 3).await?;
                let joined_s = <[u8; 4]>::try_from(raw.as_slice()).ok().map(u32::from_be_bytes).filter(|&s| s > 0);
                joined_s.map(|s| now_ms.saturating_sub(u64::from(s) * 1000))
            }
            None => None,
        };
        let stat = |name: &str| stats.get(name).and_then(|v| v.parse::<u64>().ok());
        Ok(RoomSnapshot {
            settings: parse_settings(&settings)?,
            waiting,
            active,
            admitted_total: stat("admitted").unwrap_or(0),
            dropped_total: stat("dropped").unwrap_or(0),
            admitted_per_second: stats.get("rate").and_then(|v| v.parse().ok()),
            oldest_wait_ms,
            sold_out_at_ms: settings.get("soldOutAt").and_then(|v| v.parse().ok()),
            sold_out_waiting: stat("soldOutWaiting"),
            changes: changes.iter().map(|c| from_json(c)).collect::<StoreResult<_>>()?,
        })
    }

    /// Makes `ticket` ACTIVE until `until_ms` without waiting for admission: operator tooling for
    /// smoke checks, the local demo fixtures and tests, never called by a request path.
    pub async fn grant_active(&self, ticket: &QueueTicket, until_ms: u64) -> StoreResult<()> {
        let (keys, c) = (&self.redis.keys, &ticket.concert);
        let pipe = self.redis.client().pipeline();
        pipe.zrem::<(), _, _>(keys.room_waiting(c), ticket.number).await?;
        pipe.zadd::<(), _, _>(keys.room_active(c), None, None, false, false, (until_ms as f64, ticket.number)).await?;
        pipe.hset::<(), _, _>(keys.room_holder(c), (ticket.user.compact(), ticket.number)).await?;
        pipe.sadd::<(), _, _>(keys.rooms_live(), c.as_str()).await?;
        let _: Vec<i64> = pipe.all().await?;
        Ok(())
    }

    /// Ends a ticket at once, as a payment that leaves no live hold does.
    pub async fn end_ticket(&self, ticket: &QueueTicket) -> StoreResult<()> {
        self.gate.end(ticket).await
    }
}
