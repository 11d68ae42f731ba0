//! The room's forecast (`domain::forecast`): made after each tick from what the tick left in the
//! stats, when the ACTIVE fans not seen lately idle out, how long admitted fans took to buy, and
//! what the seats' side knows of its holds, and kept in the stats' `forecast` field, which every
//! waiting fan's status and the public room state read.

use std::sync::LazyLock;

use fred::prelude::*;

use super::super::StoreResult;
use super::tick::NOT_SEEN_MARK;
use super::{Admission, QueueStore, TickReport};
use crate::domain::forecast::{hold_delay_ms, Forecast, HoldOutlook, IdleOutlook, Outlook, ENGAGED_MS, NO_SHOW_SHARE_PRIOR};
use crate::domain::ids::ConcertId;
use crate::domain::queue::{Inventory, SEATS_PER_FAN_PRIOR};
use crate::domain::report::{SecondsHistogram, SECONDS_BUCKETS};

/// What the tick left that the forecast starts from, in [`QueueStore::record_forecast`]'s order.
const TICK_FIELDS: [&str; 9] = [
    "tickLimit",
    "tickCapRoom",
    "tickSeatRoom",
    "tickAdmitted",
    "tickOverbooking",
    "admitted",
    "seatsPerFan",
    "choosingGone",
    "noShowShare",
];

/// The time in the booking path of the fans who bought (`leave_room.lua` counts it), for the delay
/// from an admission to a hold.
static PATH_FIELDS: LazyLock<Vec<String>> =
    LazyLock::new(|| SECONDS_BUCKETS.iter().map(|b| format!("path:{b}")).chain(["path:inf".to_owned()]).collect());

/// The most ACTIVE fans not seen lately the forecast reads (the longest unseen first).
const IDLE_FORECAST: i64 = 2_000;

impl QueueStore {
    /// Forecasts when each place in `concert`'s line is let in, from the tick that just ran
    /// (`report`, with the `inventory` and `holds` it was given), and keeps it for the line to
    /// read; a room paused, sold out or without a line keeps none. Two round trips.
    pub async fn record_forecast(
        &self,
        concert: &ConcertId,
        now_ms: u64,
        admission: &Admission,
        report: &TickReport,
        inventory: &Inventory,
        holds: HoldOutlook,
    ) -> StoreResult<Option<Forecast>> {
        let k = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.hmget::<(), _, _>(k.room_stats(concert), TICK_FIELDS.to_vec()).await?;
        pipe.hmget::<(), _, _>(k.room_stats(concert), PATH_FIELDS.clone()).await?;
        pipe.hmget::<(), _, _>(k.room_settings(concert), vec!["paused", "soldOut"]).await?;
        let unseen_since = now_ms.saturating_sub(ENGAGED_MS + 1) as f64;
        pipe.zrangebyscore::<(), _, _, _>(k.room_seen(concert), f64::NEG_INFINITY, unseen_since, true, Some((0, IDLE_FORECAST))).await?;
        type Answers = (Vec<Option<f64>>, Vec<Option<u64>>, Vec<Option<String>>, Vec<(String, String)>);
        let (stats, path, settings, unseen): Answers = pipe.all().await?;
        let counts = PATH_FIELDS.iter().zip(path).filter_map(|(name, count)| Some((name.as_str(), count?)));
        let booking_path = SecondsHistogram::from_fields("path:", counts);
        let [limit, cap_room, seat_room, admitted_now, overbooking, admitted, per_fan, gone, no_show_share] =
            std::array::from_fn(|i| stats.get(i).copied().flatten());
        let mut idle = IdleOutlook { no_show_share: no_show_share.unwrap_or(NO_SHOW_SHARE_PRIOR), ..Default::default() };
        for (_, seen) in unseen {
            let idles_at = seen.parse::<f64>().unwrap_or(0.0) as u64 + admission.active_idle_ms;
            if seen.ends_with(NOT_SEEN_MARK) {
                idle.unseen_ms.push(idles_at)
            } else {
                idle.gone_ms.push(idles_at)
            }
        }
        let stopped = settings.iter().any(|s| s.as_deref() == Some("1"));
        let forecast = match (limit, cap_room, seat_room, overbooking) {
            (Some(per_tick), Some(cap_room), Some(seat_room), Some(overbooking)) if !stopped && report.still_waiting > 0 => {
                let admitted_now = admitted_now.unwrap_or(0.0);
                Some(Forecast::new(&Outlook {
                    now_ms,
                    tick_ms: admission.tick_ms,
                    hold_ms: admission.hold_ms,
                    head_place: admitted.unwrap_or(0.0) as u64 + 1,
                    waiting: report.still_waiting,
                    per_tick,
                    cap_room: cap_room - admitted_now,
                    seat_room: seat_room - admitted_now,
                    choosing: report.active.saturating_sub(inventory.fans_holding) as f64 - gone.unwrap_or(0.0),
                    overbooking,
                    per_fan: per_fan.unwrap_or(SEATS_PER_FAN_PRIOR),
                    hold_delay_ms: hold_delay_ms(&booking_path, &holds.paid_in),
                    holds,
                    idle,
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
