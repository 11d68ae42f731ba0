//! Booking: a reservation as fans see it, a payment, "my reservations".

use serde::Serialize;

use crate::domain::ids::{ConcertId, PaymentId, ReservationId, ScheduleId};
use crate::domain::models::{rfc3339, Payment, ReservationRecord, ReservationStatus};

/// A reservation as the API shows it: times as RFC 3339, and a hold whose time ran out shows as
/// EXPIRED even before the sweeper has released it.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub reservation_id: ReservationId,
    pub concert_id: ConcertId,
    pub schedule_id: ScheduleId,
    pub seat_number: u32,
    pub price: u64,
    pub status: ReservationStatus,
    pub held_at: String,
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<PaymentId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
}

impl Reservation {
    /// `record` as a fan sees it at `now_ms`.
    pub fn at(record: &ReservationRecord, now_ms: u64) -> Reservation {
        let status = match record.status {
            ReservationStatus::Held if record.expires_at <= now_ms => ReservationStatus::Expired,
            s => s,
        };
        Reservation {
            reservation_id: record.reservation_id.clone(),
            concert_id: record.concert_id.clone(),
            schedule_id: record.schedule_id.clone(),
            seat_number: record.seat_number,
            price: record.price,
            status,
            held_at: rfc3339(record.held_at),
            expires_at: rfc3339(record.expires_at),
            payment_id: record.payment_id.clone(),
            paid_at: record.paid_at.map(rfc3339),
        }
    }
}

/// `GET /users/me/reservations`: newest first.
#[derive(Debug, Serialize)]
pub struct ReservationsBody {
    pub reservations: Vec<Reservation>,
}

impl ReservationsBody {
    pub fn at(records: &[ReservationRecord], now_ms: u64) -> Self {
        ReservationsBody { reservations: records.iter().map(|r| Reservation::at(r, now_ms)).collect() }
    }
}

/// `POST /payments`: the payment, times as RFC 3339.
#[derive(Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PaymentBody<'a> {
    pub payment_id: &'a PaymentId,
    pub reservation_id: &'a ReservationId,
    pub concert_id: &'a ConcertId,
    pub schedule_id: &'a ScheduleId,
    pub seat_number: u32,
    pub amount: u64,
    pub balance_after: u64,
    pub paid_at: String,
}

impl<'a> From<&'a Payment> for PaymentBody<'a> {
    fn from(p: &'a Payment) -> Self {
        PaymentBody {
            payment_id: &p.payment_id,
            reservation_id: &p.reservation_id,
            concert_id: &p.concert_id,
            schedule_id: &p.schedule_id,
            seat_number: p.seat_number,
            amount: p.amount,
            balance_after: p.balance_after,
            paid_at: rfc3339(p.paid_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::UserId;

    #[test]
    fn a_lapsed_hold_shows_as_expired_before_the_sweeper_runs() {
        let record = ReservationRecord {
            reservation_id: ReservationId::random(),
            user_id: UserId::random(),
            concert_id: ConcertId::random(),
            schedule_id: ScheduleId::random(),
            seat_number: 3,
            price: 100,
            status: ReservationStatus::Held,
            held_at: 0,
            expires_at: 100,
            payment_id: None,
            paid_at: None,
        };
        assert_eq!(Reservation::at(&record, 99).status, ReservationStatus::Held);
        assert_eq!(Reservation::at(&record, 100).status, ReservationStatus::Expired);
        let body = serde_json::to_value(Reservation::at(&record, 0)).unwrap();
        assert_eq!(body["heldAt"], "1970-01-01T00:00:00.000Z");
        assert!(body.get("paymentId").is_none(), "{body}");
    }
}
