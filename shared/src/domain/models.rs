//! What the API returns, and the records the Lua scripts store as JSON. Field names are camelCase
//! on the wire and in Redis, so a script's JSON and the API's JSON are the same shape.

use serde::{Deserialize, Serialize};

/// Milliseconds since the epoch as an RFC 3339 UTC timestamp.
pub fn rfc3339(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
}

/// A concert as operators create it and fans list it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Concert {
    pub concert_id: String,
    pub title: String,
    pub venue: String,
    pub schedules: Vec<Schedule>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    pub schedule_id: String,
    /// RFC 3339.
    pub starts_at: String,
    pub price: u64,
    pub seat_count: u32,
    /// Filled in when listing; not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_seats: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SeatStatus {
    Available,
    Held,
    Sold,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Seat {
    pub number: u32,
    pub status: SeatStatus,
}

/// A reservation's life: HELD → PAID, or HELD → EXPIRED.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReservationStatus {
    Held,
    Paid,
    Expired,
}

/// A reservation as the hold script stores it (times in epoch milliseconds).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReservationRecord {
    pub reservation_id: String,
    pub user_id: String,
    pub concert_id: String,
    pub schedule_id: String,
    pub seat_number: u32,
    pub price: u64,
    pub status: ReservationStatus,
    pub held_at: u64,
    pub expires_at: u64,
    #[serde(default)]
    pub payment_id: Option<String>,
    #[serde(default)]
    pub paid_at: Option<u64>,
}

/// A reservation as the API shows it: times as RFC 3339, and a hold whose time ran out shows as
/// EXPIRED even before the sweeper has released it.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub reservation_id: String,
    pub concert_id: String,
    pub schedule_id: String,
    pub seat_number: u32,
    pub price: u64,
    pub status: ReservationStatus,
    pub held_at: String,
    pub expires_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<String>,
}

impl ReservationRecord {
    pub fn view(&self, now_ms: u64) -> Reservation {
        let status = match self.status {
            ReservationStatus::Held if self.expires_at <= now_ms => ReservationStatus::Expired,
            s => s,
        };
        Reservation {
            reservation_id: self.reservation_id.clone(),
            concert_id: self.concert_id.clone(),
            schedule_id: self.schedule_id.clone(),
            seat_number: self.seat_number,
            price: self.price,
            status,
            held_at: rfc3339(self.held_at),
            expires_at: rfc3339(self.expires_at),
            payment_id: self.payment_id.clone(),
            paid_at: self.paid_at.map(rfc3339),
        }
    }
}

/// A completed payment, as the debit script stores it under the user.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub payment_id: String,
    pub reservation_id: String,
    pub user_id: String,
    pub concert_id: String,
    pub schedule_id: String,
    pub seat_number: u32,
    pub amount: u64,
    pub balance_after: u64,
    /// Epoch milliseconds.
    pub paid_at: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn a_lapsed_hold_reads_as_expired() {
        let rec = ReservationRecord {
            reservation_id: "r".into(),
            user_id: "u".into(),
            concert_id: "c".into(),
            schedule_id: "s".into(),
            seat_number: 3,
            price: 10,
            status: ReservationStatus::Held,
            held_at: 0,
            expires_at: 100,
            payment_id: None,
            paid_at: None,
        };
        assert_eq!(rec.view(99).status, ReservationStatus::Held);
        assert_eq!(rec.view(100).status, ReservationStatus::Expired);
    }
}
