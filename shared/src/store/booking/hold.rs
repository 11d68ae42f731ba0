//! Holding a seat: the per-fan cap is claimed on the user's side (`claim_seat.lua`), then the seat
//! on the schedule's (`hold_seat.lua`); a refused hold gives the claim back.

use fred::prelude::*;

use super::super::script::{lua_source, FromReply, Reply, Script};
use super::super::{Keys, Rejection, StoreResult};
use super::replies::ReservationReply;
use super::{seat_state_keys, BookingStore};
use crate::domain::ids::{ReservationId, ScheduleId};
use crate::domain::inputs::SeatNumber;
use crate::domain::models::ReservationRecord;
use crate::domain::tokens::QueueTicket;

/// How holds are granted: for how long, and how many seats of a concert one fan may hold and buy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HoldPolicy {
    /// How long a hold waits for payment (`HOLD_SECONDS`).
    pub hold_ms: u64,
    /// Live holds plus purchases per fan per concert (`MAX_SEATS_PER_FAN`).
    pub max_seats: u64,
}

/// `claim_seat.lua`: takes one of the user's places under the per-fan cap for a new reservation.
pub(crate) struct ClaimSeat<'a> {
    pub ticket: &'a QueueTicket,
    pub reservation: &'a ReservationId,
    pub now_ms: u64,
    pub policy: HoldPolicy,
}

impl Script for ClaimSeat<'_> {
    type Reply = ClaimReply;
    const KEYS: &'static [&'static str] = &["claims_key", "profile_key"];
    const ARGS: &'static [&'static str] = &["now_ms", "hold_expires_at_ms", "reservation_id", "max_seats"];
    lua_source!("claim_seat");

    fn keys(&self, k: &Keys) -> Vec<String> {
        vec![k.user_claims(&self.ticket.user, &self.ticket.concert), k.user_profile(&self.ticket.user)]
    }

    fn args(&self) -> Vec<String> {
        let expires = self.now_ms + self.policy.hold_ms;
        vec![self.now_ms.to_string(), expires.to_string(), self.reservation.to_string(), self.policy.max_seats.to_string()]
    }
}

/// `claim_seat.lua`'s answer: whether the user may hold one more seat of the concert.
pub(crate) enum ClaimReply {
    Claimed,
    Limit,
    /// The account is gone: no hold for it.
    NoUser,
}

impl FromReply for ClaimReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        let outcome = reply.text()?;
        reply.number()?;
        Ok(match outcome.as_str() {
            "OK" => ClaimReply::Claimed,
            "LIMIT" => ClaimReply::Limit,
            "NO_USER" => ClaimReply::NoUser,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// `hold_seat.lua`: holds one seat for one reservation id. Safe to run again: a resent command
/// answers the same hold.
pub(crate) struct HoldSeat<'a> {
    pub ticket: &'a QueueTicket,
    pub schedule: &'a ScheduleId,
    pub seat: SeatNumber,
    pub reservation: &'a ReservationId,
    pub now_ms: u64,
    pub hold_ms: u64,
}

impl Script for HoldSeat<'_> {
    type Reply = ReservationReply;
    const KEYS: &'static [&'static str] =
        &["meta_key", "seats_key", "reservations_key", "holds_key", "holders_key", "finished_key", "states_key", "held_by_key"];
    const ARGS: &'static [&'static str] = &["seat_number", "reservation_id", "user_id", "now_ms", "hold_ms", "schedule_id", "concert_id"];
    lua_source!("hold_seat");

    fn keys(&self, k: &Keys) -> Vec<String> {
        let s = self.schedule;
        [vec![k.schedule_meta(s)], seat_state_keys(k, s), vec![k.schedule_held_by(s)]].concat()
    }

    fn args(&self) -> Vec<String> {
        vec![
            self.seat.get().to_string(),
            self.reservation.to_string(),
            self.ticket.user.to_string(),
            self.now_ms.to_string(),
            self.hold_ms.to_string(),
            self.schedule.to_string(),
            self.ticket.concert.to_string(),
        ]
    }
}

impl BookingStore {
    /// Holds a seat for `policy.hold_ms`, if the user holds and bought fewer than
    /// `policy.max_seats` seats of the concert. The user's reservation index is written in the
    /// same round trip as the gate, before the hold, so a hold is never missing from "my
    /// reservations"; the per-fan cap is taken on the user's side before the hold and given back
    /// if the hold is refused. Asking again for a seat the user holds (a retry after a lost
    /// answer) returns that hold as it is (`held_at` before `now_ms`), and gives the new claim
    /// back.
    pub async fn hold(
        &self,
        ticket: &QueueTicket,
        schedule: &ScheduleId,
        seat: SeatNumber,
        now_ms: u64,
        policy: HoldPolicy,
    ) -> StoreResult<ReservationRecord> {
        let keys = &self.redis.keys;
        let reservation = ReservationId::random();
        let index = keys.user_reservations(&ticket.user);
        let claims = keys.user_claims(&ticket.user, &ticket.concert);
        let pipe = self.redis.client().pipeline();
        self.gate.queue_in(&pipe, ticket, now_ms).await?;
        pipe.hset::<(), _, _>(&index, (reservation.as_str(), schedule.as_str())).await?;
        let (active_until, latest, _, _): (Option<f64>, Option<u64>, i64, i64) = pipe.all().await?;
        let claim = match self.gate.judge((active_until, latest), ticket, now_ms).await {
            Ok(()) => self.redis.run(&ClaimSeat { ticket, reservation: &reservation, now_ms, policy }).await?,
            Err(e) => {
                self.redis.client().hdel::<(), _, _>(&index, reservation.as_str()).await?;
                return Err(e);
            }
        };
        let refused = match claim {
            ClaimReply::Claimed => None,
            ClaimReply::Limit => Some(Rejection::SeatLimitReached { max: policy.max_seats }),
            ClaimReply::NoUser => Some(Rejection::UserNotFound),
        };
        if let Some(rejection) = refused {
            self.redis.client().hdel::<(), _, _>(&index, reservation.as_str()).await?;
            return Err(rejection.into());
        }

        let hold = HoldSeat { ticket, schedule, seat, reservation: &reservation, now_ms, hold_ms: policy.hold_ms };
        let reply = self.redis.run(&hold).await?;
        let earlier_hold = matches!(&reply, ReservationReply::Record(r) if r.reservation_id != reservation);
        if let ReservationReply::Record(_) = reply {
            // The sweeper's list of schedules with holds (cleared once they have none).
            self.redis.client().sadd::<(), _, _>(keys.work_holding(), schedule.as_str()).await?;
        }
        if earlier_hold || matches!(reply, ReservationReply::Refused(_)) {
            let pipe = self.redis.client().pipeline();
            pipe.hdel::<(), _, _>(&index, reservation.as_str()).await?;
            pipe.zrem::<(), _, _>(&claims, reservation.as_str()).await?;
            let _: Vec<i64> = pipe.all().await?;
        }
        reply.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::script::assert_binds;
    use super::*;

    #[test]
    fn hold_scripts_send_what_their_lua_binds() {
        assert_binds::<ClaimSeat>();
        assert_binds::<HoldSeat>();
    }
}
