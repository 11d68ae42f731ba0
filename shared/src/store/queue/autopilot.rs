//! The autopilot's side of a room: what each tick reads to decide (the room's settings, the last
//! decision, the line, the booking path's health, Redis's own round trip), the decision it makes
//! ([`crate::domain::autopilot::decide`]), and the log of decisions the tick keeps
//! (`{r:C}:decisions`, the newest 100) for operators.

use std::collections::HashMap;
use std::time::Instant;

use fred::prelude::*;
use serde::{Deserialize, Serialize};

use super::super::health;
use super::super::script::from_json;
use super::super::StoreResult;
use super::{parse_settings, Admission, QueueStore};
use crate::domain::autopilot::{decide, Decision, Health, Policy, Reason};
use crate::domain::ids::ConcertId;
use crate::domain::queue::RoomSettings;

/// How many complete seconds of the booking path's health one decision reads.
pub const WINDOW_SECONDS: u64 = 2;

/// One decision as the log keeps it: when, and what Redis's round trip took.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedDecision {
    pub at_ms: u64,
    /// The round trip of the tick's reads, in milliseconds: Redis's own health.
    pub redis_ms: f64,
    #[serde(flatten)]
    pub decision: Decision,
}

/// What one tick reads to decide.
#[derive(Clone, Debug)]
pub struct AutopilotInputs {
    pub settings: Option<RoomSettings>,
    pub last: Option<LoggedDecision>,
    pub waiting: u64,
    pub health: Health,
    pub redis_ms: f64,
}

impl AutopilotInputs {
    /// This tick's decision, or `None` when the room is not on the autopilot or admits nobody
    /// anyway (before the opening, paused, sold out).
    pub fn decide(&self, defaults: &Admission, now_ms: u64) -> Option<LoggedDecision> {
        let s = self.settings.as_ref()?;
        if !s.autopilot.unwrap_or(defaults.autopilot) || s.paused || s.sold_out || now_ms < s.opens_at_ms {
            return None;
        }
        let policy = Policy::with_target(s.target_p95_ms.unwrap_or(defaults.target_p95_ms));
        let ceiling = s.admit_per_tick.unwrap_or(defaults.admit_per_tick);
        let mut decision = decide(&policy, self.last.as_ref().map(|l| &l.decision), &self.health, ceiling, self.waiting);
        // Redis itself slow: no rise, whatever the functions measured.
        if self.redis_ms > policy.target_p95_ms && matches!(decision.reason, Reason::Headroom) {
            decision.limit = decision.previous.max(policy.floor);
            decision.reason = Reason::RedisSlow;
        }
        Some(LoggedDecision { at_ms: now_ms, redis_ms: self.redis_ms, decision })
    }
}

impl QueueStore {
    /// What the autopilot reads for one tick, in one round trip of the room's slot (timed).
    pub async fn autopilot_inputs(&self, concert: &ConcertId, now_ms: u64) -> StoreResult<AutopilotInputs> {
        let k = &self.redis.keys;
        let started = Instant::now();
        let pipe = self.redis.client().pipeline();
        pipe.hgetall::<(), _>(k.room_settings(concert)).await?;
        pipe.lindex::<(), _>(k.room_decisions(concert), 0).await?;
        pipe.zcard::<(), _>(k.room_waiting(concert)).await?;
        self.health.queue_window(&pipe, concert, now_ms, WINDOW_SECONDS).await?;
        let mut answers: Vec<fred::types::Value> = pipe.all().await?;
        let redis_ms = started.elapsed().as_secs_f64() * 1000.0;
        let seconds: Vec<HashMap<String, u64>> = answers.split_off(3).into_iter().map(|v| v.convert()).collect::<Result<_, _>>()?;
        let mut answers = answers.into_iter();
        let mut next = || answers.next().unwrap_or(fred::types::Value::Null);
        let settings: HashMap<String, String> = next().convert()?;
        let last: Option<String> = next().convert()?;
        let waiting: u64 = next().convert()?;
        Ok(AutopilotInputs {
            settings: if settings.is_empty() { None } else { Some(parse_settings(&settings)?) },
            last: last.as_deref().map(from_json).transpose()?,
            waiting,
            health: health::sum(&seconds),
            redis_ms,
        })
    }

    /// The newest `count` decisions of a room, newest first.
    pub async fn decisions(&self, concert: &ConcertId, count: i64) -> StoreResult<Vec<LoggedDecision>> {
        let raw: Vec<String> = self.redis.client().lrange(self.redis.keys.room_decisions(concert), 0, count - 1).await?;
        raw.iter().map(|d| from_json(d)).collect()
    }
}
