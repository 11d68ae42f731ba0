//! What a room's door asks now (`GET /concerts/{id}/challenge`): the room's settings and the joins
//! per second its last tick measured (`room_tick.lua`), read in one round trip.

use std::collections::HashMap;

use fred::prelude::*;

use super::{parse_settings, QueueStore};
use crate::domain::challenge::Door;
use crate::domain::ids::ConcertId;
use crate::store::StoreResult;

/// A measurement older than this is no longer the pressure on the room: nobody ticked it since
/// (its line emptied), so the door asks the minimum.
const STALE_AFTER_MS: u64 = 10_000;

/// The difficulty a room's door asks now, and what decided it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DoorNow {
    pub door: Door,
    pub bits: u8,
    pub joins_per_second: f64,
    pub prequeue: bool,
}

impl QueueStore {
    /// The door of `concert`'s room at `now_ms`, with the environment's `defaults` for what the
    /// room has not set; `None` when there is no such room.
    pub async fn door(&self, concert: &ConcertId, defaults: Door, now_ms: u64) -> StoreResult<Option<DoorNow>> {
        let k = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.hgetall::<(), _>(k.room_settings(concert)).await?;
        pipe.hmget::<(), _, _>(k.room_stats(concert), vec!["joinsPerSecond", "joinSeqAt"]).await?;
        let (raw, stats): (HashMap<String, String>, Vec<Option<String>>) = pipe.all().await?;
        if raw.is_empty() {
            return Ok(None);
        }
        let settings = parse_settings(&raw)?;
        let measured_at: u64 = stats.get(1).cloned().flatten().and_then(|v| v.parse().ok()).unwrap_or(0);
        let joins_per_second = match stats.first().cloned().flatten().and_then(|v| v.parse::<f64>().ok()) {
            Some(rate) if now_ms.saturating_sub(measured_at) <= STALE_AFTER_MS => rate,
            _ => 0.0,
        };
        let door = settings.door(defaults);
        let prequeue = settings.in_prequeue(now_ms);
        Ok(Some(DoorNow { door, bits: door.bits(joins_per_second, prequeue), joins_per_second, prequeue }))
    }
}
