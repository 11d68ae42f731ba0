//! Concerts and their schedules. The catalog (`{catalog}:concerts`) holds what changes rarely;
//! each schedule's seats live under the schedule's own tag.

use std::collections::HashMap;

use fred::prelude::*;

use super::{from_json, RedisStore};
use crate::domain::models::Concert;
use crate::domain::tokens::QueueTicket;
use crate::error::ApiError;

impl RedisStore {
    /// Stores a new concert. Spans tags: each schedule's meta is written first and the catalog
    /// entry last, so a concert becomes visible only once every schedule of it can take holds. A
    /// failure in between leaves unreachable schedule metas and no visible concert.
    pub async fn create_concert(&self, concert: &Concert) -> Result<(), ApiError> {
        let pipe = self.client().pipeline();
        for s in &concert.schedules {
            let fields = vec![
                ("concertId", concert.concert_id.clone()),
                ("price", s.price.to_string()),
                ("seatCount", s.seat_count.to_string()),
                ("startsAt", s.starts_at.clone()),
            ];
            pipe.hset::<(), _, _>(self.keys.schedule_by_id(&s.schedule_id, "meta"), fields).await?;
        }
        let _: Vec<i64> = pipe.all().await?;
        let json = serde_json::to_string(concert).map_err(|e| ApiError::Internal(e.to_string()))?;
        self.client().hset::<(), _, _>(self.keys.catalog(), (concert.concert_id.as_str(), json)).await?;
        Ok(())
    }

    /// Every concert, sorted by title, without availability.
    pub async fn concerts(&self) -> Result<Vec<Concert>, ApiError> {
        let raw: HashMap<String, String> = self.client().hgetall(self.keys.catalog()).await?;
        parse_catalog(raw)
    }

    /// Every concert with each schedule's available seats, for an ACTIVE ticket. Two round trips:
    /// the gate with the catalog, then the seat counts of every schedule.
    pub async fn list_concerts(&self, ticket: &QueueTicket, now_ms: u64) -> Result<Vec<Concert>, ApiError> {
        let pipe = self.client().pipeline();
        self.gate_in(&pipe, ticket).await?;
        pipe.hgetall::<(), _>(self.keys.catalog()).await?;
        let (active_until, raw): (Option<f64>, HashMap<String, String>) = pipe.all().await?;
        self.check_gate(active_until, ticket, now_ms).await?;
        let mut concerts = parse_catalog(raw)?;

        let schedules: Vec<_> = concerts.iter_mut().flat_map(|c| c.schedules.iter_mut()).collect();
        if schedules.is_empty() {
            return Ok(concerts);
        }
        // Available = seats - taken entries + taken entries whose hold already lapsed (the
        // sweeper may not have released them yet, but they can be held again).
        let pipe = self.client().pipeline();
        for s in &schedules {
            pipe.hlen::<(), _>(self.keys.schedule_by_id(&s.schedule_id, "seats")).await?;
            pipe.zcount::<(), _>(self.keys.schedule_by_id(&s.schedule_id, "holds"), f64::NEG_INFINITY, now_ms as f64).await?;
        }
        let counts: Vec<u64> = pipe.all().await?;
        for (s, pair) in schedules.into_iter().zip(counts.chunks(2)) {
            let taken = pair[0].saturating_sub(pair[1]);
            s.available_seats = Some((s.seat_count as u64).saturating_sub(taken) as u32);
        }
        Ok(concerts)
    }

    /// The id of every schedule of every concert, for the hold sweeper.
    pub async fn schedule_ids(&self) -> Result<Vec<String>, ApiError> {
        Ok(self.concerts().await?.into_iter().flat_map(|c| c.schedules).map(|s| s.schedule_id).collect())
    }
}

fn parse_catalog(raw: HashMap<String, String>) -> Result<Vec<Concert>, ApiError> {
    let mut concerts = raw.values().map(|json| from_json::<Concert>(json)).collect::<Result<Vec<_>, _>>()?;
    concerts.sort_by(|a, b| a.title.cmp(&b.title).then_with(|| a.concert_id.cmp(&b.concert_id)));
    Ok(concerts)
}
