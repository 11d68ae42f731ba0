//! The sweeper: releases lapsed holds, and finishes the payments a crash left half done by asking
//! the user's side first (see the module docs of `booking`).

use fred::prelude::*;

use super::super::script::{lua_source, parse_id, FromReply, Reply, Script};
use super::super::{Keys, StoreResult};
use super::pay::{Decision, VoidPayment, VoidReply};
use super::{seat_state_keys, BookingStore};
use crate::domain::ids::{ReservationId, ScheduleId, UserId};

/// What one sweep of lapsed holds did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub released: u64,
    /// Lapsed holds with a payment attempt that the user's side showed as paid.
    pub settled_paid: u64,
    /// Lapsed holds with a payment attempt that never debited, now released.
    pub settled_void: u64,
}

impl std::ops::AddAssign for SweepReport {
    fn add_assign(&mut self, other: SweepReport) {
        self.released += other.released;
        self.settled_paid += other.settled_paid;
        self.settled_void += other.settled_void;
    }
}

/// Lapsed holds handled per schedule per sweep call; the sweeper calls again while there are more.
const SWEEP_BATCH: u64 = 500;

/// `expire_holds.lua`: releases up to `limit` lapsed holds of one schedule and forgets unpaid
/// reservations that ended before `retention_cutoff_ms`.
pub(super) struct ExpireHolds<'a> {
    pub schedule: &'a ScheduleId,
    pub now_ms: u64,
    pub limit: u64,
    pub retention_cutoff_ms: u64,
}

impl Script for ExpireHolds<'_> {
    type Reply = ExpireReply;
    const KEYS: &'static [&'static str] =
        &["seats_key", "reservations_key", "holds_key", "holders_key", "finished_key", "states_key", "meta_key"];
    const ARGS: &'static [&'static str] = &["now_ms", "limit", "retention_cutoff_ms"];
    lua_source!("expire_holds");

    fn keys(&self, k: &Keys) -> Vec<String> {
        [seat_state_keys(k, self.schedule), vec![k.schedule_meta(self.schedule)]].concat()
    }

    fn args(&self) -> Vec<String> {
        vec![self.now_ms.to_string(), self.limit.to_string(), self.retention_cutoff_ms.to_string()]
    }
}

/// `expire_holds.lua`'s answer: how many holds it released, and the lapsed holds with a payment
/// attempt that must be settled through the user's side first.
pub(super) struct ExpireReply {
    released: u64,
    attempted: Vec<(ReservationId, UserId)>,
}

impl FromReply for ExpireReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        let released = reply.number()?;
        let mut attempted = Vec::new();
        while reply.has_more() {
            attempted.push((parse_id(&reply.text()?)?, parse_id(&reply.text()?)?));
        }
        Ok(ExpireReply { released, attempted })
    }
}

impl BookingStore {
    /// Releases every lapsed hold of one schedule. A lapsed hold with a payment attempt is settled
    /// through the user's side first (see the module docs). Reservations that ended unpaid more
    /// than the retention ago are forgotten.
    pub async fn sweep_schedule(&self, schedule: &ScheduleId, now_ms: u64) -> StoreResult<SweepReport> {
        let mut report = SweepReport::default();
        let retention_cutoff_ms = now_ms.saturating_sub(self.retention_ms);
        loop {
            let reply = self.redis.run(&ExpireHolds { schedule, now_ms, limit: SWEEP_BATCH, retention_cutoff_ms }).await?;
            report.released += reply.released;
            for (reservation, user) in &reply.attempted {
                match self.redis.run(&VoidPayment { user, reservation }).await? {
                    VoidReply::Void => {
                        self.settle(schedule, reservation, Decision::Void, now_ms).await?;
                        report.settled_void += 1;
                    }
                    VoidReply::Paid(payment) => {
                        self.settle(schedule, reservation, Decision::Paid, payment.paid_at).await?;
                        report.settled_paid += 1;
                    }
                }
            }
            if reply.released + (reply.attempted.len() as u64) < SWEEP_BATCH {
                return Ok(report);
            }
        }
    }

    /// The schedules with live holds, as holds marked them (between the sweeper's full rounds).
    pub async fn holding_schedules(&self) -> StoreResult<Vec<ScheduleId>> {
        let ids: Vec<String> = self.redis.client().smembers(self.redis.keys.work_holding()).await?;
        ids.iter().map(|id| parse_id(id)).collect()
    }

    /// Keeps `schedule` on the sweeper's list while it has holds, and takes it off when it has
    /// none. A hold made meanwhile puts it back (holds add after holding; this checks again after
    /// removing), so no schedule with a hold is left off.
    pub async fn track_holding(&self, schedule: &ScheduleId) -> StoreResult<()> {
        let k = &self.redis.keys;
        let holds: u64 = self.redis.client().zcard(k.schedule_holds(schedule)).await?;
        if holds == 0 {
            self.redis.client().srem::<(), _, _>(k.work_holding(), schedule.as_str()).await?;
            let holds: u64 = self.redis.client().zcard(k.schedule_holds(schedule)).await?;
            if holds == 0 {
                return Ok(());
            }
        }
        self.redis.client().sadd::<(), _, _>(k.work_holding(), schedule.as_str()).await?;
        Ok(())
    }

    /// Sweeps each of `schedules`, keeping the sweeper's list of schedules with holds true.
    pub async fn sweep(&self, schedules: &[ScheduleId], now_ms: u64) -> StoreResult<SweepReport> {
        let mut total = SweepReport::default();
        for schedule in schedules {
            total += self.sweep_schedule(schedule, now_ms).await?;
            self.track_holding(schedule).await?;
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expire_holds_sends_what_its_lua_binds() {
        super::super::super::script::assert_binds::<ExpireHolds>();
    }
}
