//! The seat listing: one page of a schedule's seats with their status, behind the gate.

use fred::prelude::*;

use super::super::script::parse_id;
use super::super::{Rejection, StoreResult};
use super::BookingStore;
use crate::domain::ids::{ConcertId, ScheduleId};
use crate::domain::inputs::SeatPage;
use crate::domain::models::{Seat, SeatState};
use crate::domain::tokens::QueueTicket;

impl BookingStore {
    /// The first page of a schedule's seats (every seat of a hall of up to 5,000).
    pub async fn seat_map(&self, ticket: &QueueTicket, concert: &ConcertId, schedule: &ScheduleId, now_ms: u64) -> StoreResult<Vec<Seat>> {
        let first = SeatPage { from: 1, limit: SeatPage::MAX };
        Ok(self.seat_page(ticket, concert, schedule, first, now_ms).await?.1)
    }

    /// The seats `page` of a schedule of `concert` with their status, for an ACTIVE ticket, and the
    /// schedule's seat count: one round trip (the gate and the page's seat states in one
    /// pipeline; the schedule's concert and size, which never change, are read once per process),
    /// O(page size) whatever the hall's size.
    pub async fn seat_page(
        &self,
        ticket: &QueueTicket,
        concert: &ConcertId,
        schedule: &ScheduleId,
        page: SeatPage,
        now_ms: u64,
    ) -> StoreResult<(u32, Vec<Seat>)> {
        if &ticket.concert != concert {
            return Err(Rejection::WrongConcert.into());
        }
        let keys = &self.redis.keys;
        let shape = self.shape(schedule).await?;
        let seat_count = shape.as_ref().map_or(0, |(count, _)| *count);
        let numbers = page.numbers_within(seat_count);
        // A page past the last seat still reads one seat's bytes: the pipeline keeps its shape.
        let (first, last) = (numbers.start, numbers.end.saturating_sub(1).max(numbers.start));
        // The page's seat states in one string: no field names to send, one value to decode,
        // whatever the page's size.
        let pipe = self.redis.client().pipeline();
        self.gate.queue_in(&pipe, ticket, now_ms).await?;
        pipe.getrange::<(), _>(keys.schedule_states(schedule), 8 * first as usize, 8 * last as usize + 7).await?;
        let (active_until, latest, _, states): (Option<f64>, Option<u64>, i64, Vec<u8>) = pipe.all().await?;
        self.gate.judge((active_until, latest), ticket, now_ms).await?;
        match shape {
            Some((_, of)) if &of == concert => {}
            _ => return Err(Rejection::ScheduleNotFound.into()),
        }
        let seats = numbers
            .map(|number| {
                let at = 8 * (number - first) as usize;
                let state = states.get(at..at + 8).map_or(SeatState::AVAILABLE, SeatState::decode);
                Seat { number, status: state.status(now_ms) }
            })
            .collect();
        Ok((seat_count, seats))
    }

    /// A schedule's seat count and concert (`None`: no such schedule), from Redis the first time
    /// this process asks: neither ever changes once the schedule exists.
    async fn shape(&self, schedule: &ScheduleId) -> StoreResult<Option<(u32, ConcertId)>> {
        if let Some(shape) = self.shapes.read().unwrap_or_else(|e| e.into_inner()).get(schedule) {
            return Ok(Some(shape.clone()));
        }
        let meta: (Option<u32>, Option<String>) =
            self.redis.client().hmget(self.redis.keys.schedule_meta(schedule), vec!["seatCount", "concertId"]).await?;
        let (Some(count), Some(concert)) = meta else { return Ok(None) };
        let shape = (count, parse_id(&concert)?);
        self.shapes.write().unwrap_or_else(|e| e.into_inner()).insert(schedule.clone(), shape.clone());
        Ok(Some(shape))
    }
}
