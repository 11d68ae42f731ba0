//! What the API returns, and the records the Lua scripts store as JSON. Field names are camelCase
//! on the wire and in Redis, so a script's JSON and the API's JSON are the same shape.

use serde::{Deserialize, Serialize};

use super::ids::{ConcertId, PaymentId, ReservationId, ScheduleId, UserId};

/// Milliseconds since the epoch as an RFC 3339 UTC timestamp.
pub fn rfc3339(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
}

/// An RFC 3339 timestamp as milliseconds since the epoch.
pub fn parse_rfc3339_ms(raw: &str) -> Option<u64> {
    let t = humantime::parse_rfc3339(raw.trim()).ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as u64)
}

/// A concert as operators create it and fans list it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Concert {
    pub concert_id: ConcertId,
    pub title: String,
    pub venue: String,
    /// When the waiting room opens its pre-queue and when the sale opens.
    pub sale: SaleWindow,
    pub schedules: Vec<Schedule>,
    /// The waiting room's state; filled in when listing, not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_status: Option<super::queue::RoomStatus>,
}

/// The opening of a sale, RFC 3339. Before `prequeueOpensAt` the room takes nobody; between the
/// two it takes places in the pre-queue; at `opensAt` the pre-queue is drawn in random order.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SaleWindow {
    pub prequeue_opens_at: String,
    pub opens_at: String,
}

impl Concert {
    /// When the last performance starts: the room closes then.
    pub fn last_start_ms(&self) -> u64 {
        self.schedules
            .iter()
            .filter_map(|s| humantime::parse_rfc3339(&s.starts_at).ok())
            .filter_map(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as u64)
            .max()
            .unwrap_or(u64::MAX)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    pub schedule_id: ScheduleId,
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
    pub reservation_id: ReservationId,
    pub user_id: UserId,
    pub concert_id: ConcertId,
    pub schedule_id: ScheduleId,
    pub seat_number: u32,
    pub price: u64,
    pub status: ReservationStatus,
    pub held_at: u64,
    pub expires_at: u64,
    #[serde(default)]
    pub payment_id: Option<PaymentId>,
    #[serde(default)]
    pub paid_at: Option<u64>,
}

/// A completed payment, as the debit script stores it under the user.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    pub payment_id: PaymentId,
    pub reservation_id: ReservationId,
    pub user_id: UserId,
    pub concert_id: ConcertId,
    pub schedule_id: ScheduleId,
    pub seat_number: u32,
    pub amount: u64,
    pub balance_after: u64,
    /// Epoch milliseconds.
    pub paid_at: u64,
}

/// A taken seat's entry in the schedule's seat map (`{s:ID}:seats`, seat number → entry). This is
/// the one definition of the format: `hold_seat.lua` writes `H|expiresAtMs|reservationId`,
/// `settle_payment.lua` writes `S|0|reservationId`, and the scripts read the reservation id back
/// as the text after the last `|`. No entry, or a hold whose time has passed, is an available
/// seat. `tests/script_contracts.rs` checks that what the scripts write decodes here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeatEntry {
    Held { expires_at_ms: u64, reservation: ReservationId },
    Sold { reservation: ReservationId },
}

impl SeatEntry {
    pub fn parse(raw: &str) -> Option<SeatEntry> {
        let mut parts = raw.splitn(3, '|');
        let (kind, time, id) = (parts.next()?, parts.next()?, parts.next()?);
        let reservation = ReservationId::parse(id).ok()?;
        match kind {
            "H" => Some(SeatEntry::Held { expires_at_ms: time.parse().ok()?, reservation }),
            "S" if time == "0" => Some(SeatEntry::Sold { reservation }),
            _ => None,
        }
    }
}

/// A seat's state as a listing reads it: 8 bytes per seat in the schedule's `states` string
/// (`{s:ID}:states`, seat N at offset 8N, a big-endian `BITFIELD i64`), written by the same scripts
/// and in the same step as the seat's `SeatEntry`: `hold_seat.lua` writes the hold's expiry (epoch
/// ms), `settle_payment.lua` 1 for sold, and both it and `expire_holds.lua` 0 when they release
/// the seat. Bytes never written read as 0: available.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeatState(u64);

impl SeatState {
    pub const AVAILABLE: SeatState = SeatState(0);
    const SOLD: u64 = 1;

    pub fn decode(bytes: &[u8]) -> SeatState {
        SeatState(bytes.try_into().map_or(0, u64::from_be_bytes))
    }

    /// What fans see of the seat at `now_ms`: a hold counts until its expiry.
    pub fn status(self, now_ms: u64) -> SeatStatus {
        match self.0 {
            0 => SeatStatus::Available,
            Self::SOLD => SeatStatus::Sold,
            expires_at_ms if expires_at_ms > now_ms => SeatStatus::Held,
            _ => SeatStatus::Available,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seat_states_read_as_the_scripts_write_them() {
        let at = |v: u64| SeatState::decode(&v.to_be_bytes());
        assert_eq!(SeatState::decode(&[]).status(0), SeatStatus::Available, "never written");
        assert_eq!(at(0).status(5_000), SeatStatus::Available);
        assert_eq!(at(1).status(5_000), SeatStatus::Sold);
        assert_eq!(at(1_700_000_001_000).status(1_700_000_000_999), SeatStatus::Held);
        assert_eq!(at(1_700_000_001_000).status(1_700_000_001_000), SeatStatus::Available, "lapsed");
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
    }

    #[test]
    fn seat_entries_parse_as_the_scripts_write_them() {
        let reservation = ReservationId::random();
        let held = SeatEntry::parse(&format!("H|10|{reservation}"));
        assert_eq!(held, Some(SeatEntry::Held { expires_at_ms: 10, reservation: reservation.clone() }));
        assert_eq!(SeatEntry::parse(&format!("S|0|{reservation}")), Some(SeatEntry::Sold { reservation }));
        assert_eq!(SeatEntry::parse("S|5|0123456789abcdef0123456789abcdef"), None);
        assert_eq!(SeatEntry::parse("X|0|r"), None);
    }
}
