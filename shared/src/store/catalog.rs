//! Concerts and their schedules. The catalog (`{catalog}:concerts`) holds what changes rarely;
//! each schedule's meta lives under the schedule's own tag, beside its seats.

use std::collections::HashMap;

use fred::prelude::*;

use super::script::{from_json, Redis};
use super::{Rejection, StoreError, StoreResult};
use crate::domain::ids::{ConcertId, ScheduleId};
use crate::domain::models::Concert;

pub struct CatalogStore {
    redis: Redis,
}

impl CatalogStore {
    pub(crate) fn new(redis: Redis) -> Self {
        CatalogStore { redis }
    }

    /// Stores a new concert. Spans tags: each schedule's meta is written first and the catalog
    /// entry last, so a concert becomes visible only once every schedule of it can take holds. A
    /// failure in between leaves unreachable schedule metas and no visible concert.
    pub(crate) async fn create(&self, concert: &Concert) -> StoreResult<()> {
        let keys = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        for s in &concert.schedules {
            let fields = vec![
                ("concertId", concert.concert_id.to_string()),
                ("price", s.price.to_string()),
                ("seatCount", s.seat_count.to_string()),
                ("startsAt", s.starts_at.clone()),
            ];
            pipe.hset::<(), _, _>(keys.schedule_meta(&s.schedule_id), fields).await?;
        }
        let _: Vec<i64> = pipe.all().await?;
        let json = serde_json::to_string(concert).map_err(|e| StoreError::Unexpected(e.to_string()))?;
        self.redis.client().hset::<(), _, _>(keys.catalog(), (concert.concert_id.as_str(), json)).await?;
        Ok(())
    }

    /// Every concert, sorted by title, without availability.
    pub async fn concerts(&self) -> StoreResult<Vec<Concert>> {
        let raw: HashMap<String, String> = self.redis.client().hgetall(self.redis.keys.catalog()).await?;
        let mut concerts = raw.values().map(|json| from_json::<Concert>(json)).collect::<StoreResult<Vec<_>>>()?;
        concerts.sort_by(|a, b| a.title.cmp(&b.title).then_with(|| a.concert_id.cmp(&b.concert_id)));
        Ok(concerts)
    }

    /// One concert, without availability.
    pub async fn concert(&self, concert: &ConcertId) -> StoreResult<Concert> {
        let raw: Option<String> = self.redis.client().hget(self.redis.keys.catalog(), concert.as_str()).await?;
        from_json(&raw.ok_or(Rejection::ConcertNotFound)?)
    }

    /// Fills in each schedule's available seats. One round trip for all of them.
    pub async fn add_availability(&self, concerts: &mut [Concert], now_ms: u64) -> StoreResult<()> {
        let keys = &self.redis.keys;
        let schedules: Vec<_> = concerts.iter_mut().flat_map(|c| c.schedules.iter_mut()).collect();
        if schedules.is_empty() {
            return Ok(());
        }
        // Available = seats - taken entries + taken entries whose hold already lapsed (the
        // sweeper may not have released them yet, but they can be held again).
        let pipe = self.redis.client().pipeline();
        for s in &schedules {
            pipe.hlen::<(), _>(keys.schedule_seats(&s.schedule_id)).await?;
            pipe.zcount::<(), _>(keys.schedule_holds(&s.schedule_id), f64::NEG_INFINITY, now_ms as f64).await?;
        }
        let counts: Vec<u64> = pipe.all().await?;
        for (s, pair) in schedules.into_iter().zip(counts.chunks(2)) {
            let taken = pair[0].saturating_sub(pair[1]);
            s.available_seats = Some((s.seat_count as u64).saturating_sub(taken) as u32);
        }
        Ok(())
    }

    /// The id of every schedule of every concert, for the hold sweeper and the outbox relay.
    pub async fn schedule_ids(&self) -> StoreResult<Vec<ScheduleId>> {
        Ok(self.concerts().await?.into_iter().flat_map(|c| c.schedules).map(|s| s.schedule_id).collect())
    }
}
