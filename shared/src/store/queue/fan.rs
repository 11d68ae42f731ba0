//! What a fan does in a room: join (`join_room.lua`), ask where they stand (`room_status.lua`),
//! leave (the gate's `leave_room.lua`).

use fred::prelude::*;

use super::super::gate::{Leaving, Left};
use super::super::script::{lua_source, FromReply, Reply, Script};
use super::super::{Keys, Rejection, StoreResult};
use super::{line_ahead, QueueStore};
use crate::domain::challenge::Challenge;
use crate::domain::ids::{ConcertId, UserId};
use crate::domain::presale::PresaleCode;
use crate::domain::queue::QueuePosition;
use crate::domain::tokens::QueueTicket;

/// A place taken in a room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joined {
    pub ticket: QueueTicket,
    /// False when the user already had a live place there, given back as it was.
    pub created: bool,
}

/// What a join brings to the room's door (`domain::challenge`).
#[derive(Clone, Copy, Debug, Default)]
pub struct AtTheDoor<'a> {
    /// The environment's `POW_MAX_BITS`, for rooms without their own: 0 lets everyone in.
    pub default_max_bits: u8,
    /// The challenge the fan solved, already checked (signature, concert, expiry, solution).
    pub solved: Option<&'a Challenge>,
    /// The presale code the fan brought, for a presale-only room.
    pub code: Option<&'a PresaleCode>,
}

/// `join_room.lua`: takes a place, or gives back the user's live one.
pub(super) struct JoinRoom<'a> {
    pub user: &'a UserId,
    pub concert: &'a ConcertId,
    pub now_ms: u64,
    pub door: AtTheDoor<'a>,
}

impl Script for JoinRoom<'_> {
    type Reply = JoinReply;
    const KEYS: &'static [&'static str] =
        &["seq_key", "waiting_key", "fans_key", "active_key", "holder_key", "settings_key", "solutions_key", "codes_key", "stats_key"];
    const ARGS: &'static [&'static str] = &["fan", "now_ms", "default_pow_max_bits", "salt", "salt_expires_ms", "code"];
    lua_source!("join_room");

    fn keys(&self, k: &Keys) -> Vec<String> {
        let c = self.concert;
        vec![
            k.room_seq(c),
            k.room_waiting(c),
            k.room_fans(c),
            k.room_active(c),
            k.room_holder(c),
            k.room_settings(c),
            k.room_solutions(c),
            k.room_codes(c),
            k.room_stats(c),
        ]
    }

    fn args(&self) -> Vec<String> {
        let solved = self.door.solved;
        vec![
            self.user.compact(),
            self.now_ms.to_string(),
            self.door.default_max_bits.to_string(),
            solved.map(|c| c.salt.clone()).unwrap_or_default(),
            solved.map(|c| c.expires_at_ms.to_string()).unwrap_or_default(),
            self.door.code.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        ]
    }
}

/// `join_room.lua`'s answer.
pub(super) enum JoinReply {
    Created(u64),
    Existing(u64),
    NotOpen { prequeue_opens_at_ms: u64 },
    SoldOut,
    NoRoom,
    ChallengeRequired,
    ChallengeReused,
    CodeRequired,
    CodeNotFound,
    CodeTaken,
}

impl FromReply for JoinReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "CREATED" => JoinReply::Created(reply.number()?),
            "EXISTING" => JoinReply::Existing(reply.number()?),
            "NOT_OPEN" => JoinReply::NotOpen { prequeue_opens_at_ms: reply.number()? },
            "SOLD_OUT" => JoinReply::SoldOut,
            "NO_ROOM" => JoinReply::NoRoom,
            "CHALLENGE_REQUIRED" => JoinReply::ChallengeRequired,
            "CHALLENGE_REUSED" => JoinReply::ChallengeReused,
            "CODE_REQUIRED" => JoinReply::CodeRequired,
            "CODE_NOT_FOUND" => JoinReply::CodeNotFound,
            "CODE_TAKEN" => JoinReply::CodeTaken,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// `room_status.lua`: where a ticket stands, counting as its holder's sign of life.
pub(super) struct RoomStatus<'a> {
    pub ticket: &'a QueueTicket,
    pub now_ms: u64,
}

impl Script for RoomStatus<'_> {
    type Reply = QueuePosition;
    const KEYS: &'static [&'static str] = &["waiting_key", "fans_key", "active_key", "stats_key", "settings_key", "holder_key", "seen_key"];
    const ARGS: &'static [&'static str] = &["ticket", "now_ms", "fan", "now_seconds"];
    lua_source!("room_status");

    fn keys(&self, k: &Keys) -> Vec<String> {
        let c = &self.ticket.concert;
        vec![k.room_waiting(c), k.room_fans(c), k.room_active(c), k.room_stats(c), k.room_settings(c), k.room_holder(c), k.room_seen(c)]
    }

    fn args(&self) -> Vec<String> {
        let t = self.ticket;
        vec![t.number.to_string(), self.now_ms.to_string(), t.user.compact(), (self.now_ms / 1000).to_string()]
    }
}

/// `room_status.lua`'s answer.
impl FromReply for QueuePosition {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "ACTIVE" => QueuePosition::Active { expires_at_ms: reply.number()? },
            "PREQUEUE" => QueuePosition::Prequeue { opens_at_ms: reply.number()? },
            "WAITING" => {
                let position = reply.number()?;
                let recent = reply.text()?;
                let paused = reply.text()? == "1";
                let place = reply.number()?;
                let mut ahead: [String; 8] = Default::default();
                ahead[0] = recent;
                for field in &mut ahead[1..] {
                    *field = reply.text()?;
                }
                let line = line_ahead(ahead.each_ref().map(|f| Some(f.as_str())));
                QueuePosition::Waiting { position, line, paused, place }
            }
            "SOLD_OUT" => QueuePosition::SoldOut,
            "EXPIRED" => QueuePosition::Expired,
            _ => return Err(reply.unexpected()),
        })
    }
}

impl QueueStore {
    /// Takes a place in `concert`'s room, for a room whose door is open to all. A user whose
    /// ticket there is still waiting or ACTIVE gets it back (`created` false) and keeps their place.
    pub async fn join(&self, user: &UserId, concert: &ConcertId, now_ms: u64) -> StoreResult<Joined> {
        self.join_at_door(user, concert, now_ms, AtTheDoor::default()).await
    }

    /// Takes a place as [`QueueStore::join`] does, past the room's door: where the room asks a
    /// solved challenge, a new place needs one, and its salt is taken once (the same solution never
    /// takes a second place); in a presale-only room a new place needs a code of the room's, bound
    /// to the first account that brings it. A user's live place comes back without either.
    /// Nothing is stored for a refused join.
    pub async fn join_at_door(&self, user: &UserId, concert: &ConcertId, now_ms: u64, door: AtTheDoor<'_>) -> StoreResult<Joined> {
        let (number, created) = match self.redis.run(&JoinRoom { user, concert, now_ms, door }).await? {
            JoinReply::Created(n) => (n, true),
            JoinReply::Existing(n) => (n, false),
            JoinReply::NotOpen { prequeue_opens_at_ms } => return Err(Rejection::SaleNotOpen { prequeue_opens_at_ms }.into()),
            JoinReply::SoldOut => return Err(Rejection::SoldOut.into()),
            JoinReply::NoRoom => return Err(Rejection::ConcertNotFound.into()),
            JoinReply::ChallengeRequired => return Err(Rejection::ChallengeRequired.into()),
            JoinReply::ChallengeReused => return Err(Rejection::ChallengeReused.into()),
            JoinReply::CodeRequired => return Err(Rejection::PresaleCodeRequired.into()),
            JoinReply::CodeNotFound => return Err(Rejection::PresaleCodeNotFound.into()),
            JoinReply::CodeTaken => return Err(Rejection::PresaleCodeTaken.into()),
        };
        if created {
            // After the place exists, so a tick that retires the room in between sees it (see
            // `retire_if_empty`).
            self.redis.client().sadd::<(), _, _>(self.redis.keys.rooms_live(), concert.as_str()).await?;
        }
        Ok(Joined { ticket: QueueTicket { user: user.clone(), concert: concert.clone(), number }, created })
    }

    /// Where a ticket stands. A waiting ticket's check counts as the sign of life that keeps it
    /// from being dropped as abandoned.
    pub async fn position(&self, ticket: &QueueTicket, now_ms: u64) -> StoreResult<QueuePosition> {
        self.redis.run(&RoomStatus { ticket, now_ms }).await
    }

    /// Leaves the room (counted for the report as a fan who left).
    pub async fn leave(&self, ticket: &QueueTicket) -> StoreResult<Left> {
        self.gate.leave(ticket, Leaving::ByChoice).await
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::script::assert_binds;
    use super::*;

    #[test]
    fn fan_scripts_send_what_their_lua_binds() {
        assert_binds::<JoinRoom>();
        assert_binds::<RoomStatus>();
    }
}
