//! The ACTIVE gate: the check every booking request makes that its queue token is ACTIVE now in
//! its concert's room, and the end of a ticket (leaving, or a payment that leaves nothing held).
//! The booking store holds one; the queue store holds one to leave rooms.

use fred::clients::Pipeline;
use fred::prelude::*;

use super::script::{lua_source, FromReply, LuaScript, Redis, Reply, Script};
use super::{Keys, Rejection, StoreResult};
use crate::domain::report::seconds_buckets_text;
use crate::domain::tokens::QueueTicket;

/// Where a ticket was when its holder left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Left {
    Waiting,
    Active,
    /// Already gone (left before, dropped, admitted time over): leaving again is harmless.
    Gone,
}

/// Why a ticket ends, for the operator's report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leaving {
    /// Its holder left.
    ByChoice,
    /// A payment made at `at_ms` left its holder no live hold: its time in the booking path, from
    /// its admission to then, is counted.
    Bought { at_ms: u64 },
}

/// `leave_room.lua`: takes a ticket out of its room, only while it is its user's latest.
struct LeaveRoom<'a> {
    ticket: &'a QueueTicket,
    why: Leaving,
}

impl Script for LeaveRoom<'_> {
    type Reply = Left;
    const KEYS: &'static [&'static str] = &["waiting_key", "active_key", "holder_key", "seen_key", "stats_key"];
    const ARGS: &'static [&'static str] = &["fan", "ticket", "why", "now_ms", "path_buckets"];
    lua_source!("leave_room");

    fn keys(&self, k: &Keys) -> Vec<String> {
        let c = &self.ticket.concert;
        vec![k.room_waiting(c), k.room_active(c), k.room_holder(c), k.room_seen(c), k.room_stats(c)]
    }

    fn args(&self) -> Vec<String> {
        let (why, at_ms) = match self.why {
            Leaving::ByChoice => ("LEFT", 0),
            Leaving::Bought { at_ms } => ("BOUGHT", at_ms),
        };
        vec![
            self.ticket.user.compact(),
            self.ticket.number.to_string(),
            why.to_owned(),
            at_ms.to_string(),
            seconds_buckets_text().to_owned(),
        ]
    }
}

/// `leave_room.lua`'s answer.
impl FromReply for Left {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "WAITING" => Left::Waiting,
            "ACTIVE" => Left::Active,
            "GONE" => Left::Gone,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// The two answers of [`Gate::queue_in`] that [`Gate::judge`] reads: the ticket's ACTIVE expiry
/// and the token user's latest ticket in the room (the third, the last-seen refresh's count, is
/// skipped by the caller).
pub(crate) type GateAnswer = (Option<f64>, Option<u64>);

/// The check the booking endpoints make: is this ticket ACTIVE now in its concert's room? Reads
/// only, so it rides in the pipeline of the read it guards ([`Gate::queue_in`]) and costs no extra
/// round trip.
#[derive(Clone)]
pub struct Gate {
    redis: Redis,
}

impl Gate {
    pub(crate) fn new(redis: Redis) -> Self {
        Gate { redis }
    }

    pub(crate) fn scripts() -> Vec<&'static LuaScript> {
        vec![LeaveRoom::lua()]
    }

    /// Queues the ACTIVE check of `ticket` in a pipeline (three answers: the ticket's ACTIVE
    /// expiry, the user's latest ticket, which it must be, and a count to ignore); [`Gate::judge`]
    /// reads the first two. The third refreshes when the ticket was last seen on the booking path
    /// (`ZADD XX`: only a ticket the tick admitted is in `seen`), so an admitted fan who keeps
    /// using the booking path keeps the slot and one who vanished gives it back (`room_tick.lua`).
    pub(crate) async fn queue_in(&self, pipe: &Pipeline<Client>, ticket: &QueueTicket, now_ms: u64) -> StoreResult<()> {
        let (keys, concert) = (&self.redis.keys, &ticket.concert);
        pipe.zscore::<(), _, _>(keys.room_active(concert), ticket.number).await?;
        pipe.hget::<(), _, _>(keys.room_holder(concert), ticket.user.compact()).await?;
        let refresh = Some(fred::types::SetOptions::XX);
        pipe.zadd::<(), _, _>(keys.room_seen(concert), refresh, None, false, false, (now_ms as f64, ticket.number)).await?;
        Ok(())
    }

    /// Passes a live ACTIVE ticket of the token's own user; otherwise tells a waiting ticket (keep
    /// polling) from a sold-out room and from an ended ticket (take a new one).
    pub(crate) async fn judge(&self, answer: GateAnswer, ticket: &QueueTicket, now_ms: u64) -> StoreResult<()> {
        let (active_until, latest) = answer;
        let owned = latest == Some(ticket.number);
        if owned && active_until.is_some_and(|until| until > now_ms as f64) {
            return Ok(());
        }
        let keys = &self.redis.keys;
        let pipe = self.redis.client().pipeline();
        pipe.zscore::<(), _, _>(keys.room_waiting(&ticket.concert), ticket.number).await?;
        pipe.hget::<(), _, _>(keys.room_settings(&ticket.concert), "soldOut").await?;
        let (waiting, sold_out): (Option<f64>, Option<String>) = pipe.all().await?;
        Err(match (sold_out.as_deref(), waiting) {
            (Some("1"), _) => Rejection::SoldOut,
            (_, Some(_)) if owned => Rejection::QueueTokenNotActive,
            _ => Rejection::QueueTokenEnded,
        }
        .into())
    }

    /// Takes `ticket` out of its room (`leave_room.lua`): its place or its ACTIVE slot goes to the
    /// next in line. Only while it is its user's latest ticket: an older token ends nothing.
    pub(crate) async fn leave(&self, ticket: &QueueTicket, why: Leaving) -> StoreResult<Left> {
        self.redis.run(&LeaveRoom { ticket, why }).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_room_sends_what_its_script_binds() {
        super::super::script::assert_binds::<LeaveRoom>();
    }
}
