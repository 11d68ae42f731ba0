//! States that no request path leaves behind, reached directly through the stores' scripts and
//! keys, for tests only: a ticket granted ACTIVE at once, a payment stopped between its steps as a
//! crashed process would leave it, commands resent as a client does after a dropped connection.

use fred::prelude::*;

use crate::domain::ids::{ReservationId, ScheduleId, UserId};
use crate::domain::inputs::{Amount, SeatNumber};
use crate::domain::models::ReservationRecord;
use crate::domain::tokens::QueueTicket;
use crate::store::booking::HoldSeat;
use crate::store::users::ChargeBalance;
use crate::store::{Store, StoreResult};

/// The hold settings tests use, by name.
pub mod policies {
    use crate::store::booking::HoldPolicy;

    /// A minute's hold, with no practical cap on seats per fan.
    pub const MINUTE_HOLD: HoldPolicy = HoldPolicy { hold_ms: 60_000, max_seats: 100 };
    /// A minute's hold, four seats per fan (the default cap).
    pub const MINUTE_HOLD_FOUR_SEATS: HoldPolicy = HoldPolicy { hold_ms: 60_000, max_seats: 4 };
    /// A second's hold: lapsed for a sweep a second or more later.
    pub const SECOND_HOLD: HoldPolicy = HoldPolicy { hold_ms: 1_000, max_seats: 100 };
    /// A hold that lapses a millisecond after it is made.
    pub const LAPSING_HOLD: HoldPolicy = HoldPolicy { hold_ms: 1, max_seats: 100 };
}

/// Makes `ticket` ACTIVE until `until_ms` without waiting for admission: for tests, and for the
/// local seed's invoke fixtures (`local/events/`), never for a request path.
pub async fn grant_active(store: &Store, ticket: &QueueTicket, until_ms: u64) -> StoreResult<()> {
    let (keys, c) = (&store.redis.keys, &ticket.concert);
    let pipe = store.redis.client().pipeline();
    pipe.zrem::<(), _, _>(keys.room_waiting(c), ticket.number).await?;
    pipe.zadd::<(), _, _>(keys.room_active(c), None, None, false, false, (until_ms as f64, ticket.number)).await?;
    pipe.hset::<(), _, _>(keys.room_holder(c), (ticket.user.compact(), ticket.number)).await?;
    pipe.sadd::<(), _, _>(keys.rooms_live(), c.as_str()).await?;
    let _: Vec<i64> = pipe.all().await?;
    Ok(())
}

impl Store {
    /// Holds a seat, then sends the same hold script again, as the client does when a connection
    /// drops with the command in flight; returns what the second sending answered.
    pub async fn hold_resent_for_tests(
        &self,
        ticket: &QueueTicket,
        schedule: &ScheduleId,
        seat: SeatNumber,
        now_ms: u64,
    ) -> StoreResult<ReservationRecord> {
        let policy = policies::MINUTE_HOLD;
        let first = self.booking.hold(ticket, schedule, seat, now_ms, policy).await?;
        let again = HoldSeat { ticket, schedule, seat, reservation: &first.reservation_id, now_ms, hold_ms: policy.hold_ms };
        self.redis.run(&again).await?.into_result()
    }

    /// Runs step 1 and, with `debit`, step 2 of a payment, then stops as a crashed process would.
    /// Returns whether the debit happened.
    pub async fn pay_steps_for_tests(
        &self,
        ticket: &QueueTicket,
        reservation: &ReservationId,
        now_ms: u64,
        debit: bool,
    ) -> StoreResult<bool> {
        let schedule: Option<String> =
            self.redis.client().hget(self.redis.keys.user_reservations(&ticket.user), reservation.as_str()).await?;
        let schedule = ScheduleId::parse(&schedule.unwrap_or_default()).map_err(|e| crate::store::StoreError::Unexpected(e.to_string()))?;
        let record = self.booking.claim(&schedule, reservation, ticket, None, now_ms).await?;
        Ok(debit && self.booking.debit(&record, None, now_ms).await.is_ok())
    }

    /// Sends one keyless charge twice, as the client does when a connection drops with the
    /// command in flight; returns both balances.
    pub async fn charge_resent_for_tests(&self, user: &UserId, amount: Amount) -> StoreResult<(u64, u64)> {
        let charge = ChargeBalance { user, amount, key: None, request: "resent" };
        let first = self.redis.run(&charge).await?;
        let second = self.redis.run(&charge).await?;
        Ok((balance_of(first)?, balance_of(second)?))
    }
}

/// The balance a charge's reply reports.
fn balance_of(reply: crate::store::users::ChargeReply) -> StoreResult<u64> {
    use crate::store::users::ChargeReply;
    match reply {
        ChargeReply::Charged { balance } | ChargeReply::Replay { balance, .. } => Ok(balance),
        other => Err(crate::store::StoreError::Unexpected(format!("{other:?}"))),
    }
}
