//! Values taken from requests, each with a `parse` that states the rule it enforces.

use super::{Field, ValidationError};

/// A display name: trimmed, 1 to 50 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > 50 {
            return Err(ValidationError::new(Field::Name, "name must be 1 to 50 characters"));
        }
        if name.chars().any(char::is_control) {
            return Err(ValidationError::new(Field::Name, "name must not contain control characters"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Money in the smallest currency unit (won). One charge is at most 10,000,000, which keeps any
/// balance far from the 2^53 limit of the numbers Lua scripts compute with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount(u64);

impl Amount {
    pub const MAX_CHARGE: u64 = 10_000_000;

    pub fn parse_charge(raw: i64) -> Result<Self, ValidationError> {
        if raw <= 0 || raw as u64 > Self::MAX_CHARGE {
            return Err(ValidationError::new(Field::Amount, format!("amount must be a whole number from 1 to {}", Self::MAX_CHARGE)));
        }
        Ok(Self(raw as u64))
    }

    pub fn parse_price(raw: i64) -> Result<Self, ValidationError> {
        if raw < 0 || raw as u64 > Self::MAX_CHARGE {
            return Err(ValidationError::new(Field::Price, format!("price must be a whole number from 0 to {}", Self::MAX_CHARGE)));
        }
        Ok(Self(raw as u64))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// A seat number within a schedule, 1-based. The upper bound is the schedule's seat count, which
/// only the store knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeatNumber(u32);

impl SeatNumber {
    pub fn parse(raw: i64) -> Result<Self, ValidationError> {
        if raw < 1 || raw > MAX_SEATS as i64 {
            return Err(ValidationError::new(Field::Seat, format!("seatNumber must be from 1 to {MAX_SEATS}")));
        }
        Ok(Self(raw as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// The most seats one schedule may have.
pub const MAX_SEATS: u32 = 100_000;

/// The `Idempotency-Key` header: 1 to 64 characters of `[A-Za-z0-9_-]` (a UUID fits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = (1..=64).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(ValidationError::new(
                Field::IdempotencyKey,
                "Idempotency-Key must be 1 to 64 characters of letters, digits, '-' or '_'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(UserName::parse("  Kim  ").unwrap().as_str(), "Kim");
        assert!(UserName::parse("   ").is_err());
        assert!(UserName::parse(&"가".repeat(50)).is_ok());
        assert!(UserName::parse(&"가".repeat(51)).is_err());
        assert!(UserName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn charges_are_positive_and_bounded() {
        assert!(Amount::parse_charge(0).is_err());
        assert!(Amount::parse_charge(-5).is_err());
        assert_eq!(Amount::parse_charge(1).unwrap().get(), 1);
        assert!(Amount::parse_charge(Amount::MAX_CHARGE as i64 + 1).is_err());
        assert_eq!(Amount::parse_price(0).unwrap().get(), 0);
    }

    #[test]
    fn seats_start_at_one() {
        assert!(SeatNumber::parse(0).is_err());
        assert_eq!(SeatNumber::parse(1).unwrap().get(), 1);
        assert!(SeatNumber::parse(MAX_SEATS as i64 + 1).is_err());
    }

    #[test]
    fn idempotency_keys_are_restricted() {
        assert!(IdempotencyKey::parse("6f1c2a8e-1b7d-4c1e-9a3f-2d5b8e7c9a10").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(65)).is_err());
    }
}

/// A concert as an operator submits it: the request body of `POST /admin/concerts`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewConcertRequest {
    pub title: String,
    #[serde(default)]
    pub venue: String,
    pub schedules: Vec<NewScheduleRequest>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewScheduleRequest {
    /// RFC 3339, e.g. `2026-12-24T19:00:00Z`.
    pub starts_at: String,
    pub price: i64,
    pub seat_count: i64,
}

impl NewConcertRequest {
    /// Validates every field and assigns fresh ids.
    pub fn into_concert(self) -> Result<super::models::Concert, ValidationError> {
        use super::ids::{ConcertId, ScheduleId};
        use super::models::{Concert, Schedule};
        let title = self.title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(ValidationError::new(Field::Title, "title must be 1 to 200 characters"));
        }
        if self.venue.chars().count() > 200 {
            return Err(ValidationError::new(Field::Venue, "venue must be at most 200 characters"));
        }
        if self.schedules.is_empty() || self.schedules.len() > 100 {
            return Err(ValidationError::new(Field::Schedules, "a concert needs 1 to 100 schedules"));
        }
        let schedules = self
            .schedules
            .into_iter()
            .map(|s| {
                let starts_at = humantime::parse_rfc3339(s.starts_at.trim()).map_err(|_| {
                    ValidationError::new(Field::StartsAt, "startsAt must be an RFC 3339 UTC time like 2026-12-24T19:00:00Z")
                })?;
                if s.seat_count < 1 || s.seat_count > MAX_SEATS as i64 {
                    return Err(ValidationError::new(Field::SeatCount, format!("seatCount must be from 1 to {MAX_SEATS}")));
                }
                Ok(Schedule {
                    schedule_id: ScheduleId::random(),
                    starts_at: humantime::format_rfc3339_seconds(starts_at).to_string(),
                    price: Amount::parse_price(s.price)?.get(),
                    seat_count: s.seat_count as u32,
                    available_seats: None,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Concert { concert_id: ConcertId::random(), title: title.to_owned(), venue: self.venue.trim().to_owned(), schedules })
    }
}

#[cfg(test)]
mod concert_tests {
    use super::*;

    fn request(starts_at: &str, price: i64, seats: i64) -> NewConcertRequest {
        NewConcertRequest {
            title: " Winter Live ".into(),
            venue: "Olympic Hall".into(),
            schedules: vec![NewScheduleRequest { starts_at: starts_at.into(), price, seat_count: seats }],
        }
    }

    #[test]
    fn a_valid_concert_gets_ids_and_normalised_fields() {
        let c = request("2026-12-24T19:00:00Z", 50_000, 50).into_concert().unwrap();
        assert_eq!(c.title, "Winter Live");
        assert_eq!(c.schedules[0].starts_at, "2026-12-24T19:00:00Z");
        assert_eq!(c.schedules[0].seat_count, 50);
        assert_eq!(c.concert_id.as_str().len(), 32);
    }

    #[test]
    fn bad_fields_are_named() {
        let field = |r: NewConcertRequest| r.into_concert().unwrap_err().field;
        assert_eq!(field(request("tomorrow", 1, 1)), Field::StartsAt);
        assert_eq!(field(request("2026-12-24T19:00:00Z", -1, 1)), Field::Price);
        assert_eq!(field(request("2026-12-24T19:00:00Z", 1, 0)), Field::SeatCount);
        let mut r = request("2026-12-24T19:00:00Z", 1, 1);
        r.schedules.clear();
        assert_eq!(field(r), Field::Schedules);
        let mut r = request("2026-12-24T19:00:00Z", 1, 1);
        r.venue = "v".repeat(201);
        assert_eq!(field(r), Field::Venue);
    }
}
