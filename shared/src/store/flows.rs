//! Operations that read one aggregate to act on another: the public catalog with each concert's
//! room and seats (cached per process), a room's tick with its concert's inventory, the sweeps
//! over the catalog's schedules, and what an operator watches of a room. Each returns domain data;
//! `crate::api` shapes it for clients.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use super::booking::SweepReport;
use super::outbox::{LedgerTotals, ScheduleSales};
use super::queue::{Admission, PublicLine, QueueFigures, RoomSnapshot, TickReport};
use super::{Rejection, Store, StoreError, StoreResult};
use crate::domain::admin::SaleTimes;
use crate::domain::forecast::HoldOutlook;
use crate::domain::ids::{ConcertId, ScheduleId};
use crate::domain::models::{rfc3339, Concert, SaleWindow};
use crate::domain::queue::Inventory;

/// The last public catalog read, with when. A plain lock, never held across an await: two
/// requests that find it stale at once both read Redis, which is cheaper than making the others
/// wait for one read.
#[derive(Default)]
pub(crate) struct CatalogCache {
    pub(crate) ttl_ms: u64,
    last: RwLock<Option<(u64, Arc<Vec<Concert>>)>>,
}

impl CatalogCache {
    fn fresh(&self, now_ms: u64) -> Option<Arc<Vec<Concert>>> {
        let last = self.last.read().unwrap_or_else(|e| e.into_inner());
        last.as_ref().filter(|(read_at, _)| now_ms < read_at + self.ttl_ms).map(|(_, concerts)| concerts.clone())
    }

    fn keep(&self, now_ms: u64, concerts: Arc<Vec<Concert>>) {
        if self.ttl_ms > 0 {
            *self.last.write().unwrap_or_else(|e| e.into_inner()) = Some((now_ms, concerts));
        }
    }
}

/// What one round of admission over every live room did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RoomsTick {
    pub rooms: u64,
    pub admitted: u64,
    pub sold_out: u64,
    /// Rooms with nobody left in them, taken off the live list.
    pub retired: u64,
    /// Each room ticked, as it stood after its tick (for the metrics).
    pub each: Vec<RoomFigures>,
}

/// One room after its tick.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomFigures {
    pub concert: ConcertId,
    pub waiting: u64,
    pub active: u64,
    pub admitted: u64,
    pub seats_available: u64,
}

/// A room's public state as read: its concert as the (cached) catalog describes it, and its line.
#[derive(Clone, Debug)]
pub struct PublicRoom {
    pub concert: Concert,
    pub line: PublicLine,
}

/// Everything an operator watches of one room: the concert, the room and its seats.
#[derive(Clone, Debug)]
pub struct RoomView {
    pub concert: Concert,
    pub snapshot: RoomSnapshot,
    pub inventory: Inventory,
}

impl Store {
    /// Creates a concert and its waiting room. The room first: a visible concert always has one.
    pub async fn create_concert(&self, concert: &Concert, sale: SaleTimes) -> StoreResult<()> {
        self.queue.open_room(&concert.concert_id, sale, crate::domain::now_ms()).await?;
        self.catalog.create(concert).await
    }

    /// Concerts as the public catalog shows them: each with its room's state, its current sale
    /// times and each schedule's available seats.
    pub async fn public_concerts(&self, now_ms: u64) -> StoreResult<Vec<Concert>> {
        let mut concerts = self.catalog.concerts().await?;
        self.describe(&mut concerts, now_ms).await?;
        Ok(concerts)
    }

    /// The public catalog, read from Redis at most once per cache period per process: in steady
    /// state a crowd reading it costs no Redis call per request. What it shows (available seats,
    /// the room's status) may be one period old, as a CDN's copy of it is anyway.
    pub async fn public_concerts_cached(&self, now_ms: u64) -> StoreResult<Arc<Vec<Concert>>> {
        if let Some(concerts) = self.catalog_cache.fresh(now_ms) {
            return Ok(concerts);
        }
        let concerts = Arc::new(self.public_concerts(now_ms).await?);
        self.catalog_cache.keep(now_ms, concerts.clone());
        Ok(concerts)
    }

    /// One concert of the public catalog, from the cached catalog when it holds it (see
    /// [`Store::public_concerts_cached`]).
    pub async fn public_concert_cached(&self, concert: &ConcertId, now_ms: u64) -> StoreResult<Concert> {
        let cached = self.catalog_cache.fresh(now_ms).and_then(|all| all.iter().find(|c| &c.concert_id == concert).cloned());
        match cached {
            Some(concert) => Ok(concert),
            None => self.public_concert(concert, now_ms).await,
        }
    }

    /// A room's public state: its status and opening time from the cached catalog, its line from
    /// Redis, in one round trip.
    pub async fn public_room(&self, concert: &ConcertId, now_ms: u64) -> StoreResult<PublicRoom> {
        let (concert, line) = tokio::try_join!(self.public_concert_cached(concert, now_ms), self.queue.line(concert))?;
        Ok(PublicRoom { concert, line })
    }

    /// One concert as the public catalog shows it.
    pub async fn public_concert(&self, concert: &ConcertId, now_ms: u64) -> StoreResult<Concert> {
        let mut concerts = vec![self.catalog.concert(concert).await?];
        self.describe(&mut concerts, now_ms).await?;
        Ok(concerts.remove(0))
    }

    async fn describe(&self, concerts: &mut [Concert], now_ms: u64) -> StoreResult<()> {
        let ids: Vec<&ConcertId> = concerts.iter().map(|c| &c.concert_id).collect();
        let settings = self.queue.settings(&ids).await?;
        for (concert, settings) in concerts.iter_mut().zip(settings) {
            if let Some(s) = settings {
                concert.room_status = Some(s.status(now_ms, concert.last_start_ms()));
                concert.sale = SaleWindow { prequeue_opens_at: rfc3339(s.prequeue_opens_at_ms), opens_at: rfc3339(s.opens_at_ms) };
            }
        }
        self.catalog.add_availability(concerts, now_ms).await
    }

    /// Everything an operator watches of one room: the concert, the room's state, settings, line,
    /// admission rate and recent changes, and its seats.
    pub async fn room_view(&self, concert: &ConcertId, now_ms: u64) -> StoreResult<RoomView> {
        let c = self.catalog.concert(concert).await?;
        let schedules: Vec<ScheduleId> = c.schedules.iter().map(|s| s.schedule_id.clone()).collect();
        let (snapshot, inventory) = tokio::try_join!(self.queue.snapshot(concert, now_ms), self.booking.inventory(&schedules, now_ms))?;
        Ok(RoomView { concert: c, snapshot, inventory })
    }

    /// One admission tick of one room, with the concert's inventory and the autopilot's inputs
    /// read just before (concurrently: different slots), and the autopilot's decision.
    pub async fn tick_room(&self, concert: &ConcertId, tick: u64, now_ms: u64, admission: Admission) -> StoreResult<TickReport> {
        Ok(self.tick_room_seeing_seats(concert, tick, now_ms, admission).await?.0)
    }

    /// [`Store::tick_room`], with the seats available as the tick saw them.
    async fn tick_room_seeing_seats(
        &self,
        concert: &ConcertId,
        tick: u64,
        now_ms: u64,
        admission: Admission,
    ) -> StoreResult<(TickReport, u64)> {
        let schedules: Vec<ScheduleId> = self.catalog.concert(concert).await?.schedules.into_iter().map(|s| s.schedule_id).collect();
        let (mut inventory, mut holds, pilot) = tokio::try_join!(
            self.booking.inventory(&schedules, now_ms),
            self.booking.hold_outlook(&schedules, now_ms),
            self.queue.autopilot_inputs(concert, now_ms)
        )?;
        holds.unread = inventory.held.saturating_sub(holds.expiries_ms.len() as u64);
        inventory.holds_to_sell = Some(holds.seats_to_sell(now_ms, admission.hold_ms).round() as u64);
        let decision = pilot.decide(&admission, now_ms);
        let report = self.queue.tick(concert, tick, now_ms, admission, inventory, decision.as_ref()).await?;
        if report.ran {
            self.queue.record_forecast(concert, now_ms, &admission, &report, &inventory, holds).await?;
        }
        Ok((report, inventory.available()))
    }

    /// One admission tick of every room with fans in it; rooms left empty are retired.
    pub async fn tick_live_rooms(&self, tick: u64, now_ms: u64, admission: Admission) -> StoreResult<RoomsTick> {
        let mut total = RoomsTick::default();
        for concert in self.queue.live_rooms().await? {
            let (report, seats_available) = match self.tick_room_seeing_seats(&concert, tick, now_ms, admission).await {
                Err(StoreError::Rejected(Rejection::ConcertNotFound)) => {
                    self.queue.retire_if_empty(&concert).await?;
                    continue;
                }
                other => other?,
            };
            if report.ran {
                total.each.push(RoomFigures {
                    concert: concert.clone(),
                    waiting: report.still_waiting,
                    active: report.active,
                    admitted: report.admitted,
                    seats_available,
                });
            }
            total.rooms += 1;
            total.admitted += report.admitted;
            total.sold_out += report.sold_out_now as u64;
            if report.ran && report.still_waiting == 0 && report.active == 0 && self.queue.retire_if_empty(&concert).await? {
                total.retired += 1;
            }
        }
        Ok(total)
    }

    /// Releases the lapsed holds of every schedule in the catalog: the sweeper's full round, once
    /// an invocation (a minute), which also heals its list of schedules with holds.
    pub async fn sweep_all(&self, now_ms: u64) -> StoreResult<SweepReport> {
        self.booking.sweep(&self.catalog.schedule_ids().await?, now_ms).await
    }

    /// Releases the lapsed holds of the schedules that have holds: the sweeper's every-second
    /// round, whose cost follows live holds, not schedules ever created.
    pub async fn sweep_live(&self, now_ms: u64) -> StoreResult<SweepReport> {
        self.booking.sweep(&self.booking.holding_schedules().await?, now_ms).await
    }

    /// The sales ledger of every schedule in the catalog.
    pub async fn sales(&self) -> StoreResult<Vec<ScheduleSales>> {
        let concerts = self.catalog.concerts().await?;
        self.outbox.sales(&concerts).await
    }

    /// Everything the operator's report of one room sums up: its live view, its counters, the
    /// seats sold per minute and the ledger of its schedules, read concurrently (different slots),
    /// none of them a scan.
    pub async fn sale_report(&self, concert: &ConcertId, now_ms: u64) -> StoreResult<SaleReport> {
        let view = self.room_view(concert, now_ms).await?;
        let schedules: Vec<ScheduleId> = view.concert.schedules.iter().map(|s| s.schedule_id.clone()).collect();
        let (queue, minutes, ledger, holds, (fans_held, fans_bought)) = tokio::try_join!(
            self.queue.report_figures(concert),
            self.booking.sales_by_minute(&schedules),
            self.outbox.ledger_totals(&schedules),
            self.booking.hold_history(&schedules),
            self.booking.fans_who_held_and_bought(&schedules),
        )?;
        Ok(SaleReport { view, queue, minutes, ledger, holds, fans_held, fans_bought })
    }
}

/// What the operator's report of one room is made of (`api::SaleReportBody` shapes it).
#[derive(Clone, Debug)]
pub struct SaleReport {
    pub view: RoomView,
    pub queue: QueueFigures,
    /// Epoch minute → seats sold in it.
    pub minutes: BTreeMap<u64, u64>,
    pub ledger: LedgerTotals,
    /// Seats lapsed and how long paid holds took (`BookingStore::hold_history`: no expiries).
    pub holds: HoldOutlook,
    /// Fans who held a seat and who bought one (see `BookingStore::fans_who_held_and_bought`).
    pub fans_held: u64,
    pub fans_bought: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_cache_serves_what_it_read_within_its_period_only() {
        let cache = CatalogCache { ttl_ms: 1_000, ..Default::default() };
        assert!(cache.fresh(0).is_none());
        cache.keep(5_000, Arc::new(Vec::new()));
        assert!(cache.fresh(5_999).is_some());
        assert!(cache.fresh(6_000).is_none(), "stale after its period");
        let off = CatalogCache::default();
        off.keep(5_000, Arc::new(Vec::new()));
        assert!(off.fresh(5_000).is_none(), "a period of 0 keeps nothing");
    }
}
