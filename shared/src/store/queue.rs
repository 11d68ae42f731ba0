//! The waiting room, under the `{q}` tag.
//!
//! A ticket waits in `waiting` (ordered by ticket number, so nobody overtakes), is moved to
//! `active` by an admission tick, and leaves `active` when its time runs out or its holder pays.
//! Every operation here is O(log n) in the number of tickets; nothing scans.

use fred::clients::Pipeline;
use fred::prelude::*;

use super::script::{lua, FromReply, LuaScript, Redis, Reply};
use super::{Rejection, StoreResult};
use crate::domain::ids::UserId;
use crate::domain::queue::QueuePosition;
use crate::domain::tokens::QueueTicket;

/// What one admission tick did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// False when another invocation already ran this tick number.
    pub ran: bool,
    pub admitted: u64,
    pub expired_active: u64,
    pub dropped_idle: u64,
    pub still_waiting: u64,
}

/// The admission settings one tick applies.
#[derive(Clone, Copy, Debug)]
pub struct Admission {
    pub admit_per_tick: u64,
    pub active_cap: u64,
    pub active_ttl_ms: u64,
    pub wait_idle_ms: u64,
    pub tick_ms: u64,
}

/// At most this many abandoned tickets are dropped per tick, to keep each script short.
const MAX_IDLE_DROPS_PER_TICK: u64 = 10_000;

/// `issue_ticket.lua`'s answer: the caller's ticket, and whether it is new.
struct IssueReply {
    number: u64,
    created: bool,
}

impl FromReply for IssueReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(IssueReply { number: reply.number()?, created: bool::from_reply(reply)? })
    }
}

/// `queue_status.lua`'s answer.
impl FromReply for QueuePosition {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "ACTIVE" => QueuePosition::Active { expires_at_ms: reply.number()? },
            "WAITING" => QueuePosition::Waiting {
                position: reply.number()?,
                admitted_per_second: reply.maybe_text().and_then(|rate| rate.parse().ok()),
            },
            "EXPIRED" => QueuePosition::Expired,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// `admission_tick.lua`'s answer: `{admitted, expired, dropped, waiting}`, admitted -1 when the
/// tick number already ran.
impl FromReply for TickReport {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        let admitted = reply.text()?;
        let ran = admitted != "-1";
        Ok(TickReport {
            ran,
            admitted: if ran { admitted.parse().map_err(|_| reply.unexpected())? } else { 0 },
            expired_active: reply.number()?,
            dropped_idle: reply.number()?,
            still_waiting: reply.number()?,
        })
    }
}

/// The check the booking endpoints make: is this ticket ACTIVE now? Reads only, so it rides in
/// the pipeline of the read it guards ([`Gate::queue_in`]) and costs no extra round trip.
#[derive(Clone)]
pub struct Gate {
    redis: Redis,
}

impl Gate {
    pub(crate) fn new(redis: Redis) -> Self {
        Gate { redis }
    }

    /// Queues the ACTIVE check of `ticket` in a pipeline; [`Gate::judge`] reads the answer.
    pub(crate) async fn queue_in(&self, pipe: &Pipeline<Client>, ticket: &QueueTicket) -> StoreResult<()> {
        pipe.zscore::<(), _, _>(self.redis.keys.queue_active(), ticket.number).await?;
        Ok(())
    }

    /// Passes a live ACTIVE ticket; otherwise tells a WAITING ticket (keep polling) from an ended
    /// one (take a new ticket).
    pub(crate) async fn judge(&self, active_until: Option<f64>, ticket: &QueueTicket, now_ms: u64) -> StoreResult<()> {
        if active_until.is_some_and(|until| until > now_ms as f64) {
            return Ok(());
        }
        let waiting: Option<f64> = self.redis.client().zscore(self.redis.keys.queue_waiting(), ticket.number).await?;
        Err(match waiting {
            Some(_) => Rejection::QueueTokenNotActive,
            None => Rejection::QueueTokenEnded,
        }
        .into())
    }

    /// Ends a ticket (after its holder paid), so the slot goes to the next in line.
    pub(crate) async fn end(&self, ticket: &QueueTicket) -> StoreResult<()> {
        let keys = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.zrem::<(), _, _>(keys.queue_active(), ticket.number).await?;
        pipe.hdel::<(), _, _>(keys.queue_holder(), ticket.user.as_str()).await?;
        let _: Vec<i64> = pipe.all().await?;
        Ok(())
    }
}

pub struct QueueStore {
    redis: Redis,
    gate: Gate,
    issue_ticket: LuaScript,
    queue_status: LuaScript,
    admission_tick: LuaScript,
}

impl QueueStore {
    pub(crate) fn new(redis: Redis) -> Self {
        QueueStore {
            gate: Gate::new(redis.clone()),
            redis,
            issue_ticket: lua!("issue_ticket"),
            queue_status: lua!("queue_status"),
            admission_tick: lua!("admission_tick"),
        }
    }

    pub(crate) fn scripts(&self) -> Vec<&LuaScript> {
        vec![&self.issue_ticket, &self.queue_status, &self.admission_tick]
    }

    /// Enters the waiting room. A user whose ticket is still WAITING or ACTIVE gets it back
    /// (`created` false) and keeps their place.
    pub async fn issue_ticket(&self, user: &UserId, now_ms: u64) -> StoreResult<(QueueTicket, bool)> {
        let k = &self.redis.keys;
        let keys = vec![k.queue_seq(), k.queue_waiting(), k.queue_seen(), k.queue_active(), k.queue_holder()];
        let reply: IssueReply = self.redis.run(&self.issue_ticket, keys, vec![user.to_string(), now_ms.to_string()]).await?;
        Ok((QueueTicket { user: user.clone(), number: reply.number }, reply.created))
    }

    /// Where a ticket stands. A WAITING ticket's check counts as the sign of life that keeps it
    /// from being dropped as abandoned.
    pub async fn position(&self, ticket: &QueueTicket, now_ms: u64) -> StoreResult<QueuePosition> {
        let k = &self.redis.keys;
        let keys = vec![k.queue_waiting(), k.queue_seen(), k.queue_active(), k.queue_stats()];
        self.redis.run(&self.queue_status, keys, vec![ticket.number.to_string(), now_ms.to_string()]).await
    }

    /// Runs admission tick number `tick` (now / tick length). Overlapping callers may all try the
    /// same number; only the first admits.
    pub async fn admission_tick(&self, tick: u64, now_ms: u64, a: Admission) -> StoreResult<TickReport> {
        let k = &self.redis.keys;
        let keys = vec![k.queue_waiting(), k.queue_seen(), k.queue_active(), k.queue_stats()];
        let args = vec![
            tick.to_string(),
            now_ms.to_string(),
            a.admit_per_tick.to_string(),
            a.active_cap.to_string(),
            a.active_ttl_ms.to_string(),
            now_ms.saturating_sub(a.wait_idle_ms).to_string(),
            a.tick_ms.to_string(),
            MAX_IDLE_DROPS_PER_TICK.to_string(),
        ];
        self.redis.run(&self.admission_tick, keys, args).await
    }

    /// Makes `ticket` ACTIVE until `until_ms` without queueing: operator tooling for smoke checks
    /// and the local demo fixtures, never called by a request path.
    pub async fn grant_active(&self, ticket: &QueueTicket, until_ms: u64) -> StoreResult<()> {
        let keys = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.zadd::<(), _, _>(keys.queue_active(), None, None, false, false, (until_ms as f64, ticket.number)).await?;
        pipe.hset::<(), _, _>(keys.queue_holder(), (ticket.user.as_str(), ticket.number)).await?;
        let _: Vec<i64> = pipe.all().await?;
        Ok(())
    }

    /// Ends a ticket at once, as a payment does.
    pub async fn end_ticket(&self, ticket: &QueueTicket) -> StoreResult<()> {
        self.gate.end(ticket).await
    }
}
