//! What the operator's report reads of a room beyond its live view: fans who took a place, the
//! pre-queue's size and the queue-wait histogram the admission tick counts (`room_tick.lua`).

use std::collections::HashMap;

use fred::prelude::*;

use super::super::StoreResult;
use super::QueueStore;
use crate::domain::ids::ConcertId;
use crate::domain::report::WaitHistogram;

/// A room's counters for the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueFigures {
    /// Places taken (ticket numbers issued; a fan who left and came back counts twice).
    pub joined: u64,
    /// Of those, in the pre-queue (the lottery's count of places).
    pub prequeue: u64,
    /// Join (or the opening) to admission, of every fan admitted.
    pub waits: WaitHistogram,
}

impl QueueStore {
    /// The room's counters for the report, in one round trip.
    pub async fn report_figures(&self, concert: &ConcertId) -> StoreResult<QueueFigures> {
        let k = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.get::<(), _>(k.room_seq(concert)).await?;
        pipe.hget::<(), _, _>(k.room_settings(concert), "lotteryTickets").await?;
        pipe.hgetall::<(), _>(k.room_stats(concert)).await?;
        let (joined, prequeue, stats): (Option<u64>, Option<u64>, HashMap<String, String>) = pipe.all().await?;
        let waits = WaitHistogram::from_fields(stats.iter().filter_map(|(name, v)| Some((name.as_str(), v.parse().ok()?))));
        Ok(QueueFigures { joined: joined.unwrap_or(0), prequeue: prequeue.unwrap_or(0), waits })
    }
}
