//! What the operator's report reads of a room beyond its live view: fans who took a place, the
//! pre-queue's size, the queue-wait histogram the admission tick counts (`room_tick.lua`), and
//! the fans who left and the booking-path histogram `leave_room.lua` counts, and the refusals
//! answered to the room's fans (`http::answer`).

use std::collections::HashMap;

use fred::prelude::*;

use super::super::StoreResult;
use super::QueueStore;
use crate::domain::ids::ConcertId;
use crate::domain::report::SecondsHistogram;

/// A room's counters for the report.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QueueFigures {
    /// Places taken (ticket numbers issued; a fan who left and came back counts twice).
    pub joined: u64,
    /// Of those, in the pre-queue (the lottery's count of places).
    pub prequeue: u64,
    /// Join (or the opening) to admission, of every fan admitted.
    pub waits: SecondsHistogram,
    /// Admission to the payment that ended the fan's token.
    pub booking_path: SecondsHistogram,
    /// Fans who left the line, and who left once admitted.
    pub left_waiting: u64,
    pub left_active: u64,
    /// Refusals answered to the room's fans: (status, code, count), most first.
    pub errors: Vec<(u16, String, u64)>,
}

impl QueueStore {
    /// The room's counters for the report, in one round trip.
    pub async fn report_figures(&self, concert: &ConcertId) -> StoreResult<QueueFigures> {
        let k = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.get::<(), _>(k.room_seq(concert)).await?;
        pipe.hget::<(), _, _>(k.room_settings(concert), "lotteryTickets").await?;
        pipe.hgetall::<(), _>(k.room_stats(concert)).await?;
        pipe.hgetall::<(), _>(k.room_errors(concert)).await?;
        type Answers = (Option<u64>, Option<u64>, HashMap<String, String>, HashMap<String, u64>);
        let (joined, prequeue, stats, errors): Answers = pipe.all().await?;
        let mut errors: Vec<(u16, String, u64)> = errors
            .into_iter()
            .filter_map(|(field, count)| {
                let (status, code) = field.split_once(' ')?;
                Some((status.parse().ok()?, code.to_owned(), count))
            })
            .collect();
        errors.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)).then_with(|| a.1.cmp(&b.1)));
        let counts = || stats.iter().filter_map(|(name, v)| Some((name.as_str(), v.parse().ok()?)));
        let count = |name: &str| stats.get(name).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok(QueueFigures {
            joined: joined.unwrap_or(0),
            prequeue: prequeue.unwrap_or(0),
            waits: SecondsHistogram::from_fields("wait:", counts()),
            booking_path: SecondsHistogram::from_fields("path:", counts()),
            left_waiting: count("leftWaiting"),
            left_active: count("leftActive"),
            errors,
        })
    }

    /// Counts a refusal answered to a fan of `concert`'s room (`http::answer`), by status and code.
    pub async fn count_error(&self, concert: &ConcertId, status: u16, code: &str) -> StoreResult<()> {
        self.redis.client().hincrby::<(), _, _>(self.redis.keys.room_errors(concert), format!("{status} {code}"), 1).await?;
        Ok(())
    }
}
