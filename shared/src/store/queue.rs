//! The waiting room, under the `{q}` tag.
//!
//! A ticket waits in `waiting` (ordered by ticket number, so nobody overtakes), is moved to
//! `active` by an admission tick, and leaves `active` when its time runs out or its holder pays.
//! Every operation here is O(log n) in the number of tickets; nothing scans.

use fred::clients::Pipeline;
use fred::prelude::*;

use super::users::parse_u64;
use super::RedisStore;
use crate::domain::ids::UserId;
use crate::domain::queue::QueuePosition;
use crate::domain::tokens::QueueTicket;
use crate::error::ApiError;

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

impl RedisStore {
    fn queue_keys(&self, names: &[&str]) -> Vec<String> {
        names.iter().map(|n| self.keys.queue(n)).collect()
    }

    /// Enters the waiting room. A user whose ticket is still WAITING or ACTIVE gets it back
    /// (`created` false) and keeps their place.
    pub async fn issue_ticket(&self, user: &UserId, now_ms: u64) -> Result<(QueueTicket, bool), ApiError> {
        let keys = self.queue_keys(&["seq", "waiting", "seen", "active", "holder"]);
        let args = vec![user.to_string(), now_ms.to_string()];
        let (number, created): (String, i64) =
            self.scripts.issue_ticket.evalsha_with_reload(self.client(), keys, args).await?;
        Ok((QueueTicket { user: user.clone(), number: parse_u64(&number)? }, created == 1))
    }

    /// Where a ticket stands. A WAITING ticket's check counts as the sign of life that keeps it
    /// from being dropped as abandoned.
    pub async fn queue_position(&self, ticket: &QueueTicket, now_ms: u64) -> Result<QueuePosition, ApiError> {
        let keys = self.queue_keys(&["waiting", "seen", "active", "stats"]);
        let args = vec![ticket.number.to_string(), now_ms.to_string()];
        let answer: Vec<String> = self.scripts.queue_status.evalsha_with_reload(self.client(), keys, args).await?;
        match answer.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["ACTIVE", expires] => Ok(QueuePosition::Active { expires_at_ms: parse_u64(expires)? }),
            ["WAITING", position, rate] => Ok(QueuePosition::Waiting {
                position: parse_u64(position)?,
                admitted_per_second: rate.parse().ok(),
            }),
            ["EXPIRED"] => Ok(QueuePosition::Expired),
            other => Err(ApiError::Internal(format!("queue_status answered {other:?}"))),
        }
    }

    /// Runs admission tick number `tick` (now / tick length). Overlapping callers may all try the
    /// same number; only the first admits.
    pub async fn admission_tick(&self, tick: u64, now_ms: u64, a: Admission) -> Result<TickReport, ApiError> {
        let keys = self.queue_keys(&["waiting", "seen", "active", "stats"]);
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
        let r: Vec<i64> = self.scripts.admission_tick.evalsha_with_reload(self.client(), keys, args).await?;
        if r.len() != 4 {
            return Err(ApiError::Internal(format!("admission_tick answered {r:?}")));
        }
        Ok(TickReport {
            ran: r[0] >= 0,
            admitted: r[0].max(0) as u64,
            expired_active: r[1] as u64,
            dropped_idle: r[2] as u64,
            still_waiting: r[3] as u64,
        })
    }

    /// Makes `ticket` ACTIVE until `until_ms` without queueing: operator tooling for smoke checks
    /// and the local demo fixtures, never called by a request path.
    pub async fn grant_active(&self, ticket: &QueueTicket, until_ms: u64) -> Result<(), ApiError> {
        let pipe = self.client().pipeline();
        pipe.zadd::<(), _, _>(self.keys.queue("active"), None, None, false, false, (until_ms as f64, ticket.number.to_string())).await?;
        pipe.hset::<(), _, _>(self.keys.queue("holder"), (ticket.user.as_str(), ticket.number.to_string())).await?;
        let _: Vec<i64> = pipe.all().await?;
        Ok(())
    }

    /// Ends a ticket (after its holder paid), so the slot goes to the next in line.
    pub(crate) async fn end_ticket(&self, ticket: &QueueTicket) -> Result<(), ApiError> {
        let pipe = self.client().pipeline();
        pipe.zrem::<(), _, _>(self.keys.queue("active"), ticket.number.to_string()).await?;
        pipe.hdel::<(), _, _>(self.keys.queue("holder"), ticket.user.as_str()).await?;
        let _: Vec<i64> = pipe.all().await?;
        Ok(())
    }

    /// Queues the ACTIVE check of `ticket` in a pipeline, so a read costs no extra round trip;
    /// [`RedisStore::check_gate`] judges the answer.
    pub(crate) async fn gate_in(&self, pipe: &Pipeline<Client>, ticket: &QueueTicket) -> Result<(), ApiError> {
        pipe.zscore::<(), _, _>(self.keys.queue("active"), ticket.number.to_string()).await?;
        Ok(())
    }

    /// Judges the ACTIVE check: passes a live ACTIVE ticket; otherwise tells a WAITING ticket
    /// (403, keep polling) from an ended one (401, take a new ticket).
    pub(crate) async fn check_gate(&self, active_until: Option<f64>, ticket: &QueueTicket, now_ms: u64) -> Result<(), ApiError> {
        if active_until.is_some_and(|until| until > now_ms as f64) {
            return Ok(());
        }
        let waiting: Option<f64> = self.client().zscore(self.keys.queue("waiting"), ticket.number.to_string()).await?;
        Err(match waiting {
            Some(_) => ApiError::forbidden("QUEUE_TOKEN_NOT_ACTIVE", "the queue token is still waiting; poll its status"),
            None => ApiError::unauthorized("QUEUE_TOKEN_EXPIRED", "the queue token has ended; take a new one"),
        })
    }

    #[cfg(feature = "testing")]
    pub async fn end_ticket_for_tests(&self, ticket: &QueueTicket) {
        self.end_ticket(ticket).await.unwrap()
    }
}
