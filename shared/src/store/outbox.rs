//! The transactional outbox and the sales ledger.
//!
//! `settle_payment.lua` appends each PaymentCompleted event to its schedule's outbox stream in the
//! step that sells the seat. Publishers read a schedule's outbox oldest first and delete entries
//! once Kafka has acknowledged them, so an event leaves Redis only after it is in Kafka; a crash
//! in between publishes it again, and consumers deduplicate on `eventId`.

use std::collections::HashMap;

use fred::prelude::*;

use super::script::{lua_source, FromReply, LuaScript, Redis, Reply, Script};
use super::{Keys, StoreError, StoreResult};
use crate::domain::events::PaymentCompleted;
use crate::domain::ids::{ConcertId, ScheduleId};
use crate::domain::models::{Concert, SeatEntry};

/// One event waiting in a schedule's outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    pub schedule_id: ScheduleId,
    /// The stream entry id (time-ordered).
    pub id: String,
    /// The PaymentCompleted JSON.
    pub event: String,
    /// True when nothing older was waiting in the outbox when this entry was written: then it may
    /// be published at once without overtaking an older event of the same schedule.
    pub oldest: bool,
}

/// One schedule's sales as counted from the events, beside what its seat map says. The two agree
/// once Kafka has caught up; more events than SOLD seats would mean a seat sold twice.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSales {
    pub concert_id: ConcertId,
    pub schedule_id: ScheduleId,
    pub seat_count: u32,
    /// From the PaymentCompleted events.
    pub sold_seats: u64,
    pub revenue: u64,
    /// Seats SOLD in the seat map right now.
    pub seat_map_sold: u64,
    /// Debited payments whose seat was lost, waiting for an operator's refund.
    pub refunds_due: u64,
}

/// Schedules' ledgers summed: sold seats and revenue as counted from the events, and the
/// debited payments whose seat was lost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LedgerTotals {
    pub sold_seats: u64,
    pub revenue: u64,
    pub refunds_due: u64,
}

/// `apply_sale.lua`: counts one PaymentCompleted event in its schedule's ledger, once.
struct ApplySale<'a>(&'a PaymentCompleted);

impl Script for ApplySale<'_> {
    type Reply = SaleReply;
    const KEYS: &'static [&'static str] = &["ledger_key", "ledger_events_key", "meta_key"];
    const ARGS: &'static [&'static str] = &["event_id", "amount_text"];
    lua_source!("apply_sale");

    fn keys(&self, k: &Keys) -> Vec<String> {
        let schedule = &self.0.schedule_id;
        vec![k.schedule_ledger(schedule), k.schedule_ledger_events(schedule), k.schedule_meta(schedule)]
    }

    fn args(&self) -> Vec<String> {
        vec![self.0.event_id.clone(), self.0.amount.to_string()]
    }
}

/// `apply_sale.lua`'s answer.
enum SaleReply {
    Counted,
    Duplicate,
    /// An amount out of range: nothing was written.
    Uncountable,
    UnknownSchedule,
}

/// What counting one PaymentCompleted event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sale {
    /// Counted now.
    Counted,
    /// Counted before (Kafka delivered it again).
    Duplicate,
    /// Its schedule does not exist here: not counted, and it never will be.
    UnknownSchedule,
}

impl FromReply for SaleReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "1" => SaleReply::Counted,
            "0" => SaleReply::Duplicate,
            "-1" => SaleReply::Uncountable,
            "-2" => SaleReply::UnknownSchedule,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// Cheap to clone (the pool is shared), so a background task can own one.
#[derive(Clone)]
pub struct OutboxStore {
    redis: Redis,
}

impl OutboxStore {
    pub(crate) fn new(redis: Redis) -> Self {
        OutboxStore { redis }
    }

    pub(crate) fn scripts() -> Vec<&'static LuaScript> {
        vec![ApplySale::lua()]
    }

    /// Up to `count` entries of a schedule's outbox, oldest first.
    pub async fn batch(&self, schedule: &ScheduleId, count: u64) -> StoreResult<Vec<OutboxEntry>> {
        let raw: Vec<(String, HashMap<String, String>)> =
            self.redis.client().xrange(self.redis.keys.schedule_outbox(schedule), "-", "+", Some(count)).await?;
        Ok(raw
            .into_iter()
            .map(|(id, mut fields)| OutboxEntry {
                schedule_id: schedule.clone(),
                id,
                event: fields.remove("event").unwrap_or_default(),
                oldest: false,
            })
            .collect())
    }

    /// Deletes entries Kafka has acknowledged.
    pub async fn ack(&self, schedule: &ScheduleId, ids: &[String]) -> StoreResult<()> {
        if !ids.is_empty() {
            self.redis.client().xdel::<(), _, _>(self.redis.keys.schedule_outbox(schedule), ids.to_vec()).await?;
        }
        Ok(())
    }

    /// The schedules with events waiting, as payments marked them (between the relay's full
    /// rounds).
    pub async fn pending_schedules(&self) -> StoreResult<Vec<ScheduleId>> {
        let ids: Vec<String> = self.redis.client().smembers(self.redis.keys.work_pending()).await?;
        ids.iter().map(|id| super::script::parse_id(id)).collect()
    }

    /// Keeps `schedule` on the relay's list while events wait in its outbox, and takes it off when
    /// none do; a payment meanwhile puts it back (payments add after appending; this checks again
    /// after removing).
    pub async fn track_pending(&self, schedule: &ScheduleId) -> StoreResult<()> {
        let k = &self.redis.keys;
        if self.pending(schedule).await? == 0 {
            self.redis.client().srem::<(), _, _>(k.work_pending(), schedule.as_str()).await?;
            if self.pending(schedule).await? == 0 {
                return Ok(());
            }
        }
        self.redis.client().sadd::<(), _, _>(k.work_pending(), schedule.as_str()).await?;
        Ok(())
    }

    /// How many events of a schedule still wait for Kafka.
    pub async fn pending(&self, schedule: &ScheduleId) -> StoreResult<u64> {
        Ok(self.redis.client().xlen(self.redis.keys.schedule_outbox(schedule)).await?)
    }

    /// Counts an event in its schedule's ledger, whole or not at all, once per event id.
    pub async fn apply_sale(&self, event: &PaymentCompleted) -> StoreResult<Sale> {
        match self.redis.run(&ApplySale(event)).await? {
            SaleReply::Counted => Ok(Sale::Counted),
            SaleReply::Duplicate => Ok(Sale::Duplicate),
            SaleReply::UnknownSchedule => Ok(Sale::UnknownSchedule),
            SaleReply::Uncountable => {
                Err(StoreError::Unexpected(format!("event {} has an amount the ledger cannot count", event.event_id)))
            }
        }
    }

    /// The ledger of `schedules` summed, with the refunds due: three small reads a schedule, no
    /// seat map (the operator's report of a room; [`OutboxStore::sales`] compares with the maps).
    pub async fn ledger_totals(&self, schedules: &[ScheduleId]) -> StoreResult<LedgerTotals> {
        let k = &self.redis.keys;
        let mut totals = LedgerTotals::default();
        if schedules.is_empty() {
            return Ok(totals);
        }
        let pipe = self.redis.client().pipeline();
        for s in schedules {
            pipe.hmget::<(), _, _>(k.schedule_ledger(s), vec!["soldSeats", "revenue"]).await?;
            pipe.hlen::<(), _>(k.schedule_refunds(s)).await?;
        }
        let answers: Vec<fred::types::Value> = pipe.all().await?;
        for pair in answers.chunks(2) {
            let (sold, revenue): (Option<u64>, Option<u64>) = pair[0].clone().convert()?;
            totals.sold_seats += sold.unwrap_or(0);
            totals.revenue += revenue.unwrap_or(0);
            totals.refunds_due += pair[1].clone().convert::<u64>()?;
        }
        Ok(totals)
    }

    /// The ledger of every schedule of `concerts`, beside each seat map's SOLD count.
    pub async fn sales(&self, concerts: &[Concert]) -> StoreResult<Vec<ScheduleSales>> {
        let k = &self.redis.keys;
        let schedules: Vec<_> = concerts.iter().flat_map(|c| c.schedules.iter().map(move |s| (c, s))).collect();
        if schedules.is_empty() {
            return Ok(Vec::new());
        }
        let pipe = self.redis.client().pipeline();
        for (_, s) in &schedules {
            pipe.hmget::<(), _, _>(k.schedule_ledger(&s.schedule_id), vec!["soldSeats", "revenue"]).await?;
            pipe.hvals::<(), _>(k.schedule_seats(&s.schedule_id)).await?;
            pipe.hlen::<(), _>(k.schedule_refunds(&s.schedule_id)).await?;
        }
        let answers: Vec<fred::types::Value> = pipe.all().await?;
        let mut out = Vec::with_capacity(schedules.len());
        for ((concert, schedule), pair) in schedules.into_iter().zip(answers.chunks(3)) {
            let (sold, revenue): (Option<u64>, Option<u64>) = pair[0].clone().convert()?;
            let entries: Vec<String> = pair[1].clone().convert()?;
            out.push(ScheduleSales {
                concert_id: concert.concert_id.clone(),
                schedule_id: schedule.schedule_id.clone(),
                seat_count: schedule.seat_count,
                sold_seats: sold.unwrap_or(0),
                revenue: revenue.unwrap_or(0),
                seat_map_sold: entries.iter().filter(|e| matches!(SeatEntry::parse(e), Some(SeatEntry::Sold { .. }))).count() as u64,
                refunds_due: pair[2].clone().convert()?,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_sale_sends_what_its_script_binds() {
        super::super::script::assert_binds::<ApplySale>();
    }
}
