//! The transactional outbox and the sales ledger.
//!
//! `settle_payment.lua` appends each PaymentCompleted event to its schedule's outbox stream in the
//! step that sells the seat. Publishers read a schedule's outbox oldest first and delete entries
//! once Kafka has acknowledged them, so an event leaves Redis only after it is in Kafka; a crash
//! in between publishes it again, and consumers deduplicate on `eventId`.

use std::collections::HashMap;

use fred::prelude::*;

use super::RedisStore;
use crate::domain::events::PaymentCompleted;
use crate::error::ApiError;

/// One event waiting in a schedule's outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    pub schedule_id: String,
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
    pub concert_id: String,
    pub schedule_id: String,
    pub seat_count: u32,
    /// From the PaymentCompleted events.
    pub sold_seats: u64,
    pub revenue: u64,
    /// Seats SOLD in the seat map right now.
    pub seat_map_sold: u64,
}

impl RedisStore {
    /// Up to `count` entries of a schedule's outbox, oldest first.
    pub async fn outbox_batch(&self, schedule: &str, count: u64) -> Result<Vec<OutboxEntry>, ApiError> {
        let raw: Vec<(String, HashMap<String, String>)> =
            self.client().xrange(self.keys.schedule_by_id(schedule, "outbox"), "-", "+", Some(count)).await?;
        Ok(raw
            .into_iter()
            .map(|(id, mut fields)| OutboxEntry {
                schedule_id: schedule.to_owned(),
                id,
                event: fields.remove("event").unwrap_or_default(),
                oldest: false,
            })
            .collect())
    }

    /// Deletes entries Kafka has acknowledged.
    pub async fn outbox_ack(&self, schedule: &str, ids: &[String]) -> Result<(), ApiError> {
        if !ids.is_empty() {
            self.client().xdel::<(), _, _>(self.keys.schedule_by_id(schedule, "outbox"), ids.to_vec()).await?;
        }
        Ok(())
    }

    /// How many events of a schedule still wait for Kafka.
    pub async fn outbox_len(&self, schedule: &str) -> Result<u64, ApiError> {
        Ok(self.client().xlen(self.keys.schedule_by_id(schedule, "outbox")).await?)
    }

    /// Counts an event in its schedule's ledger. False when it was counted before.
    pub async fn apply_sale(&self, event: &PaymentCompleted) -> Result<bool, ApiError> {
        let keys = vec![
            self.keys.schedule_by_id(&event.schedule_id, "ledger"),
            self.keys.schedule_by_id(&event.schedule_id, "ledger-events"),
        ];
        let args = vec![event.event_id.clone(), event.amount.to_string()];
        let counted: i64 = self.scripts.apply_sale.evalsha_with_reload(self.client(), keys, args).await?;
        Ok(counted == 1)
    }

    /// The ledger of every schedule in the catalog.
    pub async fn sales(&self) -> Result<Vec<ScheduleSales>, ApiError> {
        let schedules: Vec<(String, String, u32)> = self
            .concerts()
            .await?
            .into_iter()
            .flat_map(|c| c.schedules.into_iter().map(move |s| (c.concert_id.clone(), s.schedule_id, s.seat_count)))
            .collect();
        if schedules.is_empty() {
            return Ok(Vec::new());
        }
        let pipe = self.client().pipeline();
        for (_, schedule, _) in &schedules {
            pipe.hmget::<(), _, _>(self.keys.schedule_by_id(schedule, "ledger"), vec!["soldSeats", "revenue"]).await?;
            pipe.hvals::<(), _>(self.keys.schedule_by_id(schedule, "seats")).await?;
        }
        let answers: Vec<fred::types::Value> = pipe.all().await?;
        let mut out = Vec::with_capacity(schedules.len());
        for ((concert_id, schedule_id, seat_count), pair) in schedules.into_iter().zip(answers.chunks(2)) {
            let (sold, revenue): (Option<u64>, Option<u64>) = pair[0].clone().convert()?;
            let entries: Vec<String> = pair[1].clone().convert()?;
            out.push(ScheduleSales {
                concert_id,
                schedule_id,
                seat_count,
                sold_seats: sold.unwrap_or(0),
                revenue: revenue.unwrap_or(0),
                seat_map_sold: entries.iter().filter(|e| e.starts_with("S|")).count() as u64,
            });
        }
        Ok(out)
    }
}
