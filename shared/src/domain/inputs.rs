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

/// A page of a seat listing: `limit` seats from seat number `from`. A page is bounded so that a
/// stadium's seat map never makes a response too large for Lambda (6 MB) or a read too long for
/// Redis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeatPage {
    pub from: u32,
    pub limit: u32,
}

impl SeatPage {
    /// The most seats one page lists (about 150 KB of JSON).
    pub const MAX: u32 = 5_000;

    /// `from` (default 1) and `limit` (default and most [`SeatPage::MAX`]) as the query gives them.
    pub fn parse(from: Option<&str>, limit: Option<&str>) -> Result<Self, ValidationError> {
        let number = |raw: Option<&str>, default: u32, max: u32, name: &str| -> Result<u32, ValidationError> {
            match raw {
                None => Ok(default),
                Some(raw) => match raw.parse::<u32>() {
                    Ok(n) if (1..=max).contains(&n) => Ok(n),
                    _ => Err(ValidationError::new(Field::Page, format!("{name} must be a whole number from 1 to {max}"))),
                },
            }
        };
        Ok(SeatPage { from: number(from, 1, MAX_SEATS, "from")?, limit: number(limit, Self::MAX, Self::MAX, "limit")? })
    }

    /// The seat numbers the page asks for (some may lie beyond the schedule's last seat).
    pub fn numbers(self) -> std::ops::Range<u32> {
        self.from..self.from.saturating_add(self.limit).min(MAX_SEATS + 1)
    }

    /// The page's seat numbers that a schedule of `seat_count` seats has (empty past its end).
    pub fn numbers_within(self, seat_count: u32) -> std::ops::Range<u32> {
        let all = self.numbers();
        all.start..all.end.min(seat_count.saturating_add(1))
    }

    /// Where the next page starts, when there are more seats than this page reaches.
    pub fn next(self, seat_count: u32) -> Option<u32> {
        let next = self.from.saturating_add(self.limit);
        (next <= seat_count).then_some(next)
    }
}

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
    fn seat_pages_are_bounded() {
        let all = SeatPage::parse(None, None).unwrap();
        assert_eq!((all.from, all.limit), (1, SeatPage::MAX));
        let page = SeatPage::parse(Some("101"), Some("50")).unwrap();
        assert_eq!(page.numbers().collect::<Vec<_>>().len(), 50);
        assert_eq!((page.next(200), page.next(150)), (Some(151), None));
        assert_eq!((page.numbers_within(500), page.numbers_within(120)), (101..151, 101..121));
        assert!(page.numbers_within(80).is_empty() && page.numbers_within(100).is_empty());
        for (from, limit) in [(Some("0"), None), (None, Some("5001")), (Some("x"), None)] {
            assert_eq!(SeatPage::parse(from, limit).unwrap_err().field, Field::Page);
        }
    }

    #[test]
    fn idempotency_keys_are_restricted() {
        assert!(IdempotencyKey::parse("6f1c2a8e-1b7d-4c1e-9a3f-2d5b8e7c9a10").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(65)).is_err());
    }
}
