//! The room's forecast (`domain::forecast`): made after each tick from what the tick left in the
//! stats and what the seats' side knows of its holds, and kept in the stats' `forecast` field,
//! which every waiting fan's status and the public room state read.

use fred::prelude::*;

use super::super::StoreResult;
use super::{QueueStore, TickReport};
use crate::domain::forecast::{Forecast, HoldOutlook, Outlook};
use crate::domain::ids::ConcertId;
use crate::domain::queue::{Inventory, SEATS_PER_FAN_PRIOR};

/// What the tick left that the forecast starts from, in [`QueueStore::record_forecast`]'s order.
const TICK_FIELDS: [&str; 7] = ["tickLimit", "tickCapRoom", "tickSeatRoom", "tickAdmitted", "tickOverbooking", "admitted", "seatsPerFan"];

impl QueueStore {
    /// Forecasts when each place in `concert`'s line is let in, from the tick that just ran
    /// (`report`, with the `inventory` and `holds` it was given), and keeps it for the line to
    /// read; a room paused, sold out or without a line keeps none. Two round trips.
    pub async fn record_forecast(
        &self,
        concert: &ConcertId,
        now_ms: u64,
        (tick_ms, hold_ms): (u64, u64),
        report: &TickReport,
        inventory: &Inventory,
        holds: HoldOutlook,
    ) -> StoreResult<Option<Forecast>> {
        let k = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.hmget::<(), _, _>(k.room_stats(concert), TICK_FIELDS.to_vec()).await?;
        pipe.hmget::<(), _, _>(k.room_settings(concert), vec!["paused", "soldOut"]).await?;
        let (stats, settings): (Vec<Option<f64>>, Vec<Option<String>>) = pipe.all().await?;
        let [limit, cap_room, seat_room, admitted_now, overbooking, admitted, per_fan] =
            std::array::from_fn(|i| stats.get(i).copied().flatten());
        let stopped = settings.iter().any(|s| s.as_deref() == Some("1"));
        let forecast = match (limit, cap_room, seat_room, overbooking) {
            (Some(per_tick), Some(cap_room), Some(seat_room), Some(overbooking)) if !stopped && report.still_waiting > 0 => {
                let admitted_now = admitted_now.unwrap_or(0.0);
                Some(Forecast::new(&Outlook {
                    now_ms,
                    tick_ms,
                    hold_ms,
                    head_place: admitted.unwrap_or(0.0) as u64 + 1,
                    waiting: report.still_waiting,
                    per_tick,
                    cap_room: cap_room - admitted_now,
                    seat_room: seat_room - admitted_now,
                    choosing: report.active.saturating_sub(inventory.fans_holding) as f64,
                    overbooking,
                    per_fan: per_fan.unwrap_or(SEATS_PER_FAN_PRIOR),
                    holds,
                }))
            }
            _ => None,
        };
        let stats_key = k.room_stats(concert);
        match &forecast {
            Some(f) => self.redis.client().hset::<(), _, _>(stats_key, ("forecast", f.to_field())).await?,
            None => self.redis.client().hdel::<(), _, _>(stats_key, "forecast").await?,
        }
        Ok(forecast)
    }
}
