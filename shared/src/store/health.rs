//! The booking path's health per room and second (`{r:C}:health:<second>`), the autopilot's
//! signal: the functions that serve admitted fans count each answer with one script call
//! (`record_health.lua`, single-slot, expiring by itself), and the tick reads the last complete
//! seconds in one round trip. Works with any number of separate Lambda instances: the counts
//! meet in Redis.

use std::collections::HashMap;
use std::time::Duration;

use fred::prelude::*;

use super::script::{lua_source, FromReply, LuaScript, Redis, Reply, Script};
use super::{Keys, StoreResult};
use crate::domain::autopilot::{bucket_of, Health, BUCKETS};
use crate::domain::ids::ConcertId;

/// How long a second's counts are kept: the autopilot and the console read the last minute.
const KEEP_SECONDS: u64 = 120;

/// `record_health.lua`: one answer of the booking path.
struct RecordHealth<'a> {
    concert: &'a ConcertId,
    second: u64,
    bucket: usize,
    server_error: bool,
}

impl Script for RecordHealth<'_> {
    type Reply = u64;
    const KEYS: &'static [&'static str] = &["health_key"];
    const ARGS: &'static [&'static str] = &["bucket", "server_error", "ttl_seconds"];
    lua_source!("record_health");

    fn keys(&self, k: &Keys) -> Vec<String> {
        vec![k.room_health(self.concert, self.second)]
    }

    fn args(&self) -> Vec<String> {
        vec![self.bucket.to_string(), if self.server_error { "1" } else { "0" }.into(), KEEP_SECONDS.to_string()]
    }
}

/// Cheap to clone (the pool is shared), so a request can hand one to a background task.
#[derive(Clone)]
pub struct HealthStore {
    redis: Redis,
}

impl HealthStore {
    pub(crate) fn new(redis: Redis) -> Self {
        HealthStore { redis }
    }

    pub(crate) fn scripts() -> Vec<&'static LuaScript> {
        vec![RecordHealth::lua()]
    }

    /// Counts one answer for `concert`'s booking path, served in `took`, ending at `now_ms`.
    pub async fn record(&self, concert: &ConcertId, took: Duration, server_error: bool, now_ms: u64) -> StoreResult<()> {
        let bucket = bucket_of(took.as_secs_f64() * 1000.0);
        self.redis.run(&RecordHealth { concert, second: now_ms / 1000, bucket, server_error }).await?;
        Ok(())
    }

    /// The `seconds` complete seconds before `now_ms`, summed. One round trip.
    pub async fn window(&self, concert: &ConcertId, now_ms: u64, seconds: u64) -> StoreResult<Health> {
        let pipe = self.redis.client().pipeline();
        self.queue_window(&pipe, concert, now_ms, seconds).await?;
        let seconds: Vec<HashMap<String, u64>> = pipe.all().await?;
        Ok(sum(&seconds))
    }

    /// Queues the reads of [`HealthStore::window`] in a pipeline of the room's slot; [`sum`]
    /// reads their answers.
    pub(crate) async fn queue_window(
        &self,
        pipe: &fred::clients::Pipeline<Client>,
        concert: &ConcertId,
        now_ms: u64,
        seconds: u64,
    ) -> StoreResult<()> {
        let now_s = now_ms / 1000;
        for second in now_s.saturating_sub(seconds)..now_s {
            pipe.hgetall::<(), _>(self.redis.keys.room_health(concert, second)).await?;
        }
        Ok(())
    }
}

/// Seconds' counts (`n`, `e`, `b0`..`b7`) as one [`Health`].
pub(crate) fn sum(seconds: &[HashMap<String, u64>]) -> Health {
    let mut total = Health::default();
    for second in seconds {
        let count = |field: &str| second.get(field).copied().unwrap_or(0);
        let mut health = Health { answers: count("n"), errors: count("e"), buckets: [0; BUCKETS] };
        for (i, bucket) in health.buckets.iter_mut().enumerate() {
            *bucket = count(&format!("b{i}"));
        }
        total.add(&health);
    }
    total
}

/// `record_health.lua`'s answer: the second's answers so far.
impl FromReply for u64 {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        reply.number()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_health_sends_what_its_lua_binds() {
        super::super::script::assert_binds::<RecordHealth>();
    }

    #[test]
    fn seconds_sum_into_one_health() {
        let second = |pairs: &[(&str, u64)]| pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect::<HashMap<_, _>>();
        let h = sum(&[second(&[("n", 3), ("b0", 2), ("b4", 1)]), second(&[("n", 2), ("e", 1), ("b7", 2)]), HashMap::new()]);
        assert_eq!((h.answers, h.errors, h.buckets), (5, 1, [2, 0, 0, 0, 1, 0, 0, 2]));
    }
}
