//! What an operator reads of a room ([`RoomSnapshot`]) and changes (`update_room.lua`, logged).

use std::collections::HashMap;

use fred::prelude::*;

use super::super::health;
use super::super::script::{from_json, lua_source, parse_u64, FromReply, Reply, Script};
use super::super::{Keys, Rejection, StoreResult};
use super::{line_ahead, parse_settings, LoggedDecision, QueueStore, LINE_FIELDS};
use crate::domain::admin::RoomUpdate;
use crate::domain::autopilot::Health;
use crate::domain::ids::ConcertId;
use crate::domain::queue::{LineAhead, RoomSettings};

/// A room as its operator sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct RoomSnapshot {
    pub settings: RoomSettings,
    pub waiting: u64,
    pub active: u64,
    pub admitted_total: u64,
    pub dropped_total: u64,
    /// How fast the line moves and the seats it can count on, as the last tick measured them.
    pub ahead: LineAhead,
    /// How long the front of the line has waited.
    pub oldest_wait_ms: Option<u64>,
    pub sold_out_at_ms: Option<u64>,
    /// The waiting fans told at the sold-out tick.
    pub sold_out_waiting: Option<u64>,
    /// The last operator changes, newest first.
    pub changes: Vec<serde_json::Value>,
    /// ACTIVE slots given back by fans who went idle, since the room opened.
    pub idle_active_total: u64,
    /// Of those, fans never seen after their admission (they never came back to the page).
    pub no_shows_total: u64,
    /// The autopilot's last decisions, newest first.
    pub decisions: Vec<LoggedDecision>,
    /// The booking path's answers over the last [`HEALTH_SECONDS`] complete seconds.
    pub health: Health,
    /// Presale codes loaded or generated for the room, and those bound to an account.
    pub codes_issued: u64,
    pub codes_redeemed: u64,
}

/// The seconds of the booking path's health an operator's view sums.
pub const HEALTH_SECONDS: u64 = 5;

/// `update_room.lua`: applies an operator's change and logs it with the old values.
pub(super) struct UpdateRoom<'a> {
    pub concert: &'a ConcertId,
    pub update: &'a RoomUpdate,
    pub now_ms: u64,
}

impl Script for UpdateRoom<'_> {
    type Reply = UpdateReply;
    const KEYS: &'static [&'static str] = &["settings_key", "changes_key"];
    const ARGS: &'static [&'static str] = &["now_ms", "changes_json"];
    lua_source!("update_room");

    fn keys(&self, k: &Keys) -> Vec<String> {
        vec![k.room_settings(self.concert), k.room_changes(self.concert)]
    }

    fn args(&self) -> Vec<String> {
        let changes: serde_json::Map<String, serde_json::Value> =
            self.update.0.iter().map(|(field, value)| (field.to_string(), value.clone().into())).collect();
        vec![self.now_ms.to_string(), serde_json::Value::Object(changes).to_string()]
    }
}

/// `update_room.lua`'s answer: the logged change, or why none was made.
pub(super) enum UpdateReply {
    Changed(serde_json::Value),
    NoRoom,
    AlreadyOpen,
    BadWindow,
}

impl FromReply for UpdateReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "OK" => UpdateReply::Changed(reply.json()?),
            "NO_ROOM" => UpdateReply::NoRoom,
            "ALREADY_OPEN" => UpdateReply::AlreadyOpen,
            "BAD_WINDOW" => UpdateReply::BadWindow,
            _ => return Err(reply.unexpected()),
        })
    }
}

impl QueueStore {
    /// Applies an operator's change from the next tick; returns the logged change.
    pub async fn update(&self, concert: &ConcertId, update: &RoomUpdate, now_ms: u64) -> StoreResult<serde_json::Value> {
        match self.redis.run(&UpdateRoom { concert, update, now_ms }).await? {
            UpdateReply::Changed(change) => Ok(change),
            UpdateReply::NoRoom => Err(Rejection::ConcertNotFound.into()),
            UpdateReply::AlreadyOpen => Err(Rejection::SaleAlreadyOpen.into()),
            UpdateReply::BadWindow => Err(Rejection::BadSaleWindow.into()),
        }
    }

    /// Everything an operator watches of a room. One round trip.
    pub async fn snapshot(&self, concert: &ConcertId, now_ms: u64) -> StoreResult<RoomSnapshot> {
        let k = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.hgetall::<(), _>(k.room_settings(concert)).await?;
        pipe.zcard::<(), _>(k.room_waiting(concert)).await?;
        pipe.zcount::<(), _>(k.room_active(concert), now_ms as f64, f64::INFINITY).await?;
        pipe.hgetall::<(), _>(k.room_stats(concert)).await?;
        pipe.zrange::<(), _, _, _>(k.room_waiting(concert), 0, 0, None, false, None, false).await?;
        pipe.lrange::<(), _>(k.room_changes(concert), 0, 49).await?;
        pipe.lrange::<(), _>(k.room_decisions(concert), 0, 29).await?;
        pipe.hlen::<(), _>(k.room_codes(concert)).await?;
        self.health.queue_window(&pipe, concert, now_ms, HEALTH_SECONDS).await?;
        let mut answers: Vec<fred::types::Value> = pipe.all().await?;
        let seconds: Vec<HashMap<String, u64>> = answers.split_off(8).into_iter().map(|v| v.convert()).collect::<Result<_, _>>()?;
        type Answers = (HashMap<String, String>, u64, u64, HashMap<String, String>, Vec<String>, Vec<String>, Vec<String>, u64);
        let (settings, waiting, active, stats, front, changes, decisions, codes_issued): Answers =
            fred::types::Value::Array(answers).convert()?;
        if settings.is_empty() {
            return Err(Rejection::ConcertNotFound.into());
        }
        let oldest_wait_ms = match front.first() {
            Some(ticket) => {
                // The front ticket's join time: the first 4 of its 8 bytes in `fans` (seconds).
                let at = 8 * parse_u64(ticket)? as usize;
                let raw: Vec<u8> = self.redis.client().getrange(k.room_fans(concert), at, at + 3).await?;
                let joined_s = <[u8; 4]>::try_from(raw.as_slice()).ok().map(u32::from_be_bytes).filter(|&s| s > 0);
                joined_s.map(|s| now_ms.saturating_sub(u64::from(s) * 1000))
            }
            None => None,
        };
        let stat = |name: &str| stats.get(name).and_then(|v| v.parse::<u64>().ok());
        Ok(RoomSnapshot {
            settings: parse_settings(&settings)?,
            waiting,
            active,
            admitted_total: stat("admitted").unwrap_or(0),
            dropped_total: stat("dropped").unwrap_or(0),
            ahead: line_ahead(LINE_FIELDS.map(|f| stats.get(f).map(String::as_str))),
            oldest_wait_ms,
            sold_out_at_ms: settings.get("soldOutAt").and_then(|v| v.parse().ok()),
            sold_out_waiting: stat("soldOutWaiting"),
            changes: changes.iter().map(|c| from_json(c)).collect::<StoreResult<_>>()?,
            idle_active_total: stat("idleActive").unwrap_or(0),
            no_shows_total: stat("noShows").unwrap_or(0),
            codes_issued,
            codes_redeemed: stat("codesRedeemed").unwrap_or(0),
            decisions: decisions.iter().map(|d| from_json(d)).collect::<StoreResult<_>>()?,
            health: health::sum(&seconds),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_room_sends_what_its_lua_binds() {
        super::super::super::script::assert_binds::<UpdateRoom>();
    }
}
