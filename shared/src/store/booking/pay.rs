//! Paying a held seat in three single-slot steps (claim, debit, settle); see the module docs of
//! `booking` for why they are safe in any order of crashes and retries.

use fred::prelude::*;

use super::super::gate::Leaving;
use super::super::outbox::OutboxEntry;
use super::super::script::{from_json, lua_source, parse_id, FromReply, Reply, Script};
use super::super::{Keys, Rejection, StoreError, StoreResult};
use super::replies::{refusal, ReservationReply};
use super::{seat_state_keys, BookingStore};
use crate::domain::ids::{PaymentId, ReservationId, ScheduleId};
use crate::domain::inputs::IdempotencyKey;
use crate::domain::models::{rfc3339, Payment, ReservationRecord};
use crate::domain::report::seconds_buckets_text;
use crate::domain::tokens::QueueTicket;

/// A payment as the API reports it.
#[derive(Debug, PartialEq)]
pub struct Paid {
    pub payment: Payment,
    /// True when this request found the payment already made (a retry).
    pub replayed: bool,
    /// The PaymentCompleted event this request put in the outbox, to publish at once.
    pub event: Option<OutboxEntry>,
}

/// What the user's side decided about a payment attempt; the schedule's side follows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Decision {
    Paid,
    Void,
}

impl Decision {
    /// The word `settle_payment.lua` takes.
    fn as_lua(self) -> &'static str {
        match self {
            Decision::Paid => "PAID",
            Decision::Void => "VOID",
        }
    }
}

/// Step 1, `claim_payment.lua`: the caller's live hold gets a payment id, unless the balance read
/// just before cannot pay its price.
pub(crate) struct ClaimPayment<'a> {
    pub schedule: &'a ScheduleId,
    pub reservation: &'a ReservationId,
    pub ticket: &'a QueueTicket,
    /// The user's balance, read in the gate's round trip (`None`: unknown, the debit decides).
    pub balance: Option<u64>,
    pub now_ms: u64,
    pub payment: PaymentId,
}

impl Script for ClaimPayment<'_> {
    type Reply = ClaimPaymentReply;
    const KEYS: &'static [&'static str] = &["reservations_key"];
    const ARGS: &'static [&'static str] = &["reservation_id", "user_id", "now_ms", "new_payment_id", "concert_id", "balance"];
    lua_source!("claim_payment");

    fn keys(&self, k: &Keys) -> Vec<String> {
        vec![k.schedule_reservations(self.schedule)]
    }

    fn args(&self) -> Vec<String> {
        vec![
            self.reservation.to_string(),
            self.ticket.user.to_string(),
            self.now_ms.to_string(),
            self.payment.to_string(),
            self.ticket.concert.to_string(),
            self.balance.map(|b| b.to_string()).unwrap_or_default(),
        ]
    }
}

/// `claim_payment.lua`'s answer: the reservation, or its price above the balance (the hold left
/// as it was).
pub(crate) enum ClaimPaymentReply {
    Claimed(ReservationReply),
    Short { balance: u64, record: ReservationRecord },
}

impl FromReply for ClaimPaymentReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        let first = reply.text()?;
        if first == "SHORT" {
            return Ok(ClaimPaymentReply::Short { balance: reply.number()?, record: reply.json()? });
        }
        Ok(ClaimPaymentReply::Claimed(match first.as_str() {
            "HELD" | "PAID" => ReservationReply::Record(reply.json()?),
            "ERR" => ReservationReply::Refused(refusal(reply)?),
            _ => return Err(reply.unexpected()),
        }))
    }
}

/// Step 2, `debit_payment.lua`: the deciding debit, once per reservation.
pub(crate) struct DebitPayment<'a> {
    pub record: &'a ReservationRecord,
    pub payment: &'a PaymentId,
    pub key: Option<&'a IdempotencyKey>,
    pub now_ms: u64,
}

impl Script for DebitPayment<'_> {
    type Reply = DebitReply;
    const KEYS: &'static [&'static str] = &["profile_key", "payments_key", "idempotency_key", "claims_key"];
    const ARGS: &'static [&'static str] = &[
        "reservation_id",
        "payment_id",
        "amount_text",
        "concert_id",
        "schedule_id",
        "seat_number",
        "user_id",
        "now_ms",
        "idempotency_field",
    ];
    lua_source!("debit_payment");

    fn keys(&self, k: &Keys) -> Vec<String> {
        let user = &self.record.user_id;
        vec![k.user_profile(user), k.user_payments(user), k.user_idempotency(user), k.user_claims(user, &self.record.concert_id)]
    }

    fn args(&self) -> Vec<String> {
        let r = self.record;
        vec![
            r.reservation_id.to_string(),
            self.payment.to_string(),
            r.price.to_string(),
            r.concert_id.to_string(),
            r.schedule_id.to_string(),
            r.seat_number.to_string(),
            r.user_id.to_string(),
            self.now_ms.to_string(),
            self.key.map(|k| format!("pay:{}", k.as_str())).unwrap_or_default(),
        ]
    }
}

/// `debit_payment.lua`'s answer. `live_holds`: the user's holds of the concert still unpaid.
pub(crate) enum DebitReply {
    Paid {
        payment: Payment,
        live_holds: u64,
    },
    /// Paid by an earlier request.
    AlreadyPaid {
        payment: Payment,
        live_holds: u64,
    },
    /// The sweeper voided this attempt: the hold lapsed.
    Void,
    Short {
        balance: u64,
    },
    KeyReused,
    NoUser,
}

impl FromReply for DebitReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "PAID" => DebitReply::Paid { payment: reply.json()?, live_holds: reply.number()? },
            "DONE" => DebitReply::AlreadyPaid { payment: reply.json()?, live_holds: reply.number()? },
            "VOID" => DebitReply::Void,
            "SHORT" => DebitReply::Short { balance: reply.number()? },
            "KEY_REUSED" => DebitReply::KeyReused,
            "NO_USER" => DebitReply::NoUser,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// What step 2 decided for a payment that went through.
pub(crate) struct Debited {
    pub payment: Payment,
    /// An earlier request had already debited (a retry).
    pub replayed: bool,
    /// How many holds of the concert the user still has unpaid.
    pub live_holds: u64,
}

/// `void_payment.lua`: the sweeper's question to the user's side about a lapsed hold with a
/// payment attempt: the debit that happened, or the guarantee it never will.
pub(super) struct VoidPayment<'a> {
    pub user: &'a crate::domain::ids::UserId,
    pub reservation: &'a ReservationId,
}

impl Script for VoidPayment<'_> {
    type Reply = VoidReply;
    const KEYS: &'static [&'static str] = &["payments_key"];
    const ARGS: &'static [&'static str] = &["reservation_id"];
    lua_source!("void_payment");

    fn keys(&self, k: &Keys) -> Vec<String> {
        vec![k.user_payments(self.user)]
    }

    fn args(&self) -> Vec<String> {
        vec![self.reservation.to_string()]
    }
}

/// `void_payment.lua`'s answer.
pub(super) enum VoidReply {
    Paid(Payment),
    Void,
}

impl FromReply for VoidReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "PAID" => VoidReply::Paid(reply.json()?),
            "VOID" => VoidReply::Void,
            _ => return Err(reply.unexpected()),
        })
    }
}

/// Step 3, `settle_payment.lua`: the schedule follows the user's side's decision.
pub(super) struct SettlePayment<'a> {
    pub schedule: &'a ScheduleId,
    pub reservation: &'a ReservationId,
    pub decision: Decision,
    pub at_ms: u64,
    /// The PaymentCompleted event's id, should this call sell the seat.
    pub event_id: String,
}

impl Script for SettlePayment<'_> {
    type Reply = SettleReply;
    const KEYS: &'static [&'static str] = &[
        "seats_key",
        "reservations_key",
        "holds_key",
        "holders_key",
        "finished_key",
        "states_key",
        "outbox_key",
        "meta_key",
        "refunds_key",
        "minutes_key",
        "bought_by_key",
    ];
    const ARGS: &'static [&'static str] = &["reservation_id", "outcome", "paid_at_ms", "event_id", "paid_at_rfc3339", "paid_in_buckets"];
    lua_source!("settle_payment");

    fn keys(&self, k: &Keys) -> Vec<String> {
        let s = self.schedule;
        let report = vec![k.schedule_refunds(s), k.schedule_minutes(s), k.schedule_bought_by(s)];
        [seat_state_keys(k, s), vec![k.schedule_outbox(s), k.schedule_meta(s)], report].concat()
    }

    fn args(&self) -> Vec<String> {
        vec![
            self.reservation.to_string(),
            self.decision.as_lua().to_owned(),
            self.at_ms.to_string(),
            self.event_id.clone(),
            rfc3339(self.at_ms),
            seconds_buckets_text().to_owned(),
        ]
    }
}

/// `settle_payment.lua`'s answer.
pub(super) enum SettleReply {
    /// Debited, but the hold was released: recorded for a refund.
    Orphaned,
    /// This call sold the seat and appended the event to the outbox.
    Sold {
        outbox_id: String,
        event: String,
        outbox_len: u64,
    },
    /// Nothing to do: settled before, or released.
    Settled,
    Refused(Rejection),
}

impl FromReply for SettleReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        let status = reply.text()?;
        if status == "ERR" {
            return Ok(SettleReply::Refused(refusal(reply)?));
        }
        if status == "ORPHANED" {
            reply.text()?;
            return Ok(SettleReply::Orphaned);
        }
        let _reservation = reply.text()?;
        Ok(match (status.as_str(), reply.has_more()) {
            ("PAID", true) => SettleReply::Sold { outbox_id: reply.text()?, event: reply.text()?, outbox_len: reply.number()? },
            ("PAID" | "EXPIRED", false) => SettleReply::Settled,
            _ => return Err(reply.unexpected()),
        })
    }
}

impl BookingStore {
    /// Pays a live hold of the ticket's user from their balance and marks the seat SOLD; when that
    /// leaves the user no live hold of the concert, the ticket ends (its slot goes to the next fan).
    /// Paying an already paid reservation returns the first payment and charges nothing, even
    /// after the ticket has ended. See the module docs for why the steps are safe.
    pub async fn pay(
        &self,
        ticket: &QueueTicket,
        reservation: &ReservationId,
        key: Option<&IdempotencyKey>,
        now_ms: u64,
    ) -> StoreResult<Paid> {
        let (keys, user) = (&self.redis.keys, &ticket.user);
        let pipe = self.redis.client().pipeline();
        self.gate.queue_in(&pipe, ticket, now_ms).await?;
        pipe.hget::<(), _, _>(keys.user_payments(user), reservation.as_str()).await?;
        pipe.hget::<(), _, _>(keys.user_reservations(user), reservation.as_str()).await?;
        pipe.hget::<(), _, _>(keys.user_profile(user), "balance").await?;
        type Answers = (Option<f64>, Option<u64>, i64, Option<String>, Option<String>, Option<u64>);
        let (active_until, latest, _, paid, schedule, balance): Answers = pipe.all().await?;
        let schedule: ScheduleId = parse_id(&schedule.ok_or(Rejection::ReservationNotFound)?)?;
        if let Some(raw) = paid.filter(|p| p != "VOID") {
            // A retry: make sure the seat side caught up (a no-op unless a crash stopped it).
            let payment: Payment = from_json(&raw)?;
            let event = self.settle(&schedule, reservation, Decision::Paid, payment.paid_at).await?;
            return Ok(Paid { payment, replayed: true, event });
        }
        self.gate.judge((active_until, latest), ticket, now_ms).await?;

        let record = self.claim(&schedule, reservation, ticket, balance, now_ms).await?;
        let Debited { payment, replayed, live_holds } = self.debit(&record, key, now_ms).await?;
        // Step 3 with the end of the ticket, concurrently (different tags).
        let end_ticket = async {
            match live_holds {
                0 => self.gate.leave(ticket, Leaving::Bought { at_ms: now_ms }).await.map(drop),
                _ => Ok(()),
            }
        };
        let (event, ()) = tokio::try_join!(self.settle(&schedule, reservation, Decision::Paid, payment.paid_at), end_ticket)?;
        Ok(Paid { payment, replayed, event })
    }

    /// Step 1, on the schedule's side: the caller's live hold of the ticket's concert, with its
    /// payment id. With the user's `balance` at hand, a price it cannot pay is refused before the
    /// hold is marked as being paid.
    pub(crate) async fn claim(
        &self,
        schedule: &ScheduleId,
        reservation: &ReservationId,
        ticket: &QueueTicket,
        balance: Option<u64>,
        now_ms: u64,
    ) -> StoreResult<ReservationRecord> {
        let claim = ClaimPayment { schedule, reservation, ticket, balance, now_ms, payment: PaymentId::random() };
        match self.redis.run(&claim).await? {
            ClaimPaymentReply::Claimed(reply) => reply.into_result(),
            ClaimPaymentReply::Short { balance, record } => Err(Rejection::InsufficientBalance { price: record.price, balance }.into()),
        }
    }

    /// Step 2, on the user's side: the deciding debit.
    pub(crate) async fn debit(&self, record: &ReservationRecord, key: Option<&IdempotencyKey>, now_ms: u64) -> StoreResult<Debited> {
        let payment = record.payment_id.as_ref().ok_or_else(|| StoreError::Unexpected("a claimed hold without a payment id".into()))?;
        match self.redis.run(&DebitPayment { record, payment, key, now_ms }).await? {
            DebitReply::Paid { payment, live_holds } => Ok(Debited { payment, replayed: false, live_holds }),
            DebitReply::AlreadyPaid { payment, live_holds } => Ok(Debited { payment, replayed: true, live_holds }),
            DebitReply::Short { balance } => Err(Rejection::InsufficientBalance { price: record.price, balance }.into()),
            DebitReply::Void => {
                self.settle(&record.schedule_id, &record.reservation_id, Decision::Void, now_ms).await?;
                Err(Rejection::HoldExpired.into())
            }
            DebitReply::KeyReused => Err(Rejection::IdempotencyKeyReused.into()),
            DebitReply::NoUser => Err(Rejection::UserNotFound.into()),
        }
    }

    /// Step 3, on the schedule's side. Returns the outbox entry when this call sold the seat.
    pub(super) async fn settle(
        &self,
        schedule: &ScheduleId,
        reservation: &ReservationId,
        decision: Decision,
        at_ms: u64,
    ) -> StoreResult<Option<OutboxEntry>> {
        let event_id = format!("{:032x}", rand::random::<u128>());
        match self.redis.run(&SettlePayment { schedule, reservation, decision, at_ms, event_id }).await? {
            SettleReply::Sold { outbox_id, event, outbox_len } => {
                // The relay's list of schedules with events waiting (cleared once it drained them).
                self.redis.client().sadd::<(), _, _>(self.redis.keys.work_pending(), schedule.as_str()).await?;
                Ok(Some(OutboxEntry { schedule_id: schedule.clone(), id: outbox_id, event, oldest: outbox_len == 1 }))
            }
            SettleReply::Settled => Ok(None),
            SettleReply::Refused(rejection) => Err(rejection.into()),
            SettleReply::Orphaned => {
                tracing::error!(schedule = %schedule, reservation = %reservation, "a debited payment lost its hold: recorded for refund");
                Err(StoreError::Unexpected(format!(
                    "payment of reservation {reservation} was debited but its hold is gone; recorded for refund"
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::script::assert_binds;
    use super::*;

    #[test]
    fn payment_scripts_send_what_their_lua_binds() {
        assert_binds::<ClaimPayment>();
        assert_binds::<DebitPayment>();
        assert_binds::<VoidPayment>();
        assert_binds::<SettlePayment>();
    }
}
