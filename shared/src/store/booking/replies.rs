//! The answers the schedule-side scripts share: a refusal (`{'ERR', code}`) and a reservation.

use super::super::script::{FromReply, Reply};
use super::super::{Rejection, StoreResult};
use crate::domain::models::ReservationRecord;

/// The `{'ERR', code}` a schedule-side script answers when the rules refuse.
pub(super) fn refusal(reply: &mut Reply) -> StoreResult<Rejection> {
    Ok(match reply.text()?.as_str() {
        "SCHEDULE_NOT_FOUND" => Rejection::ScheduleNotFound,
        "SEAT_NOT_FOUND" => Rejection::SeatNotFound,
        "SEAT_TAKEN" => Rejection::SeatTaken,
        "RESERVATION_NOT_FOUND" => Rejection::ReservationNotFound,
        "HOLD_EXPIRED" => Rejection::HoldExpired,
        "WRONG_CONCERT" => Rejection::WrongConcert,
        _ => return Err(reply.unexpected()),
    })
}

/// `hold_seat.lua` and `claim_payment.lua` answer a reservation (`OK`, `HELD` or `PAID`) or a
/// refusal.
pub(crate) enum ReservationReply {
    Record(ReservationRecord),
    Refused(Rejection),
}

impl FromReply for ReservationReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "OK" | "HELD" | "PAID" => ReservationReply::Record(reply.json()?),
            "ERR" => ReservationReply::Refused(refusal(reply)?),
            _ => return Err(reply.unexpected()),
        })
    }
}

impl ReservationReply {
    pub(crate) fn into_result(self) -> StoreResult<ReservationRecord> {
        match self {
            ReservationReply::Record(record) => Ok(record),
            ReservationReply::Refused(rejection) => Err(rejection.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::script::decode_for_tests;
    use super::*;
    use fred::types::Value;

    #[test]
    fn a_refusal_names_its_rule_and_an_unknown_code_is_a_bug() {
        let refused = |code: &str| decode_for_tests::<ReservationReply>(Value::Array(vec!["ERR".into(), code.into()]));
        for (code, rejection) in
            [("SEAT_TAKEN", Rejection::SeatTaken), ("HOLD_EXPIRED", Rejection::HoldExpired), ("WRONG_CONCERT", Rejection::WrongConcert)]
        {
            assert!(matches!(refused(code), Ok(ReservationReply::Refused(r)) if r == rejection), "{code}");
        }
        assert!(refused("NO_SUCH_RULE").is_err());
    }
}
