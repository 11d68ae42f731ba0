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

/// A concert as an operator submits it: the request body of `POST /admin/concerts`.
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewConcertRequest {
    pub title: String,
    #[serde(default)]
    pub venue: String,
    /// RFC 3339; by default the sale opens at once, with no pre-queue.
    #[serde(default)]
    pub prequeue_opens_at: Option<String>,
    #[serde(default)]
    pub opens_at: Option<String>,
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
    /// Validates every field and assigns fresh ids; a sale window left out opens at `now_ms`.
    pub fn into_concert(self, now_ms: u64) -> Result<(super::models::Concert, SaleTimes), ValidationError> {
        use super::ids::{ConcertId, ScheduleId};
        use super::models::{rfc3339, Concert, SaleWindow, Schedule};
        let sale = SaleTimes::parse(self.prequeue_opens_at.as_deref(), self.opens_at.as_deref(), now_ms)?;
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
        let concert = Concert {
            concert_id: ConcertId::random(),
            title: title.to_owned(),
            venue: self.venue.trim().to_owned(),
            sale: SaleWindow { prequeue_opens_at: rfc3339(sale.prequeue_opens_at_ms), opens_at: rfc3339(sale.opens_at_ms) },
            schedules,
            room_status: None,
        };
        Ok((concert, sale))
    }
}

/// A sale window in epoch milliseconds: the pre-queue opens no later than the sale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaleTimes {
    pub prequeue_opens_at_ms: u64,
    pub opens_at_ms: u64,
}

impl SaleTimes {
    /// Either time may be left out: the sale then opens at `now_ms` (or at the pre-queue's
    /// opening), and the pre-queue with the sale.
    pub fn parse(prequeue: Option<&str>, opens: Option<&str>, now_ms: u64) -> Result<Self, ValidationError> {
        let time = |raw: Option<&str>, name: &str| -> Result<Option<u64>, ValidationError> {
            raw.map(|r| {
                super::models::parse_rfc3339_ms(r).ok_or_else(|| {
                    ValidationError::new(Field::SaleWindow, format!("{name} must be an RFC 3339 UTC time like 2026-12-24T19:00:00Z"))
                })
            })
            .transpose()
        };
        let prequeue = time(prequeue, "prequeueOpensAt")?;
        let opens = time(opens, "opensAt")?.or(prequeue).unwrap_or(now_ms);
        let prequeue = prequeue.unwrap_or(opens);
        if prequeue > opens {
            return Err(ValidationError::new(Field::SaleWindow, "prequeueOpensAt must not be after opensAt"));
        }
        Ok(SaleTimes { prequeue_opens_at_ms: prequeue, opens_at_ms: opens })
    }
}

/// An operator's change to a running room: the body of `PATCH /admin/concerts/{id}/room`. Every
/// field is optional; what is given is checked here and applied from the next tick.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoomUpdateRequest {
    pub admit_per_tick: Option<i64>,
    pub active_cap: Option<i64>,
    pub overbooking: Option<f64>,
    pub paused: Option<bool>,
    pub prequeue_opens_at: Option<String>,
    pub opens_at: Option<String>,
}

/// A validated room change: each setting as the store keeps it (numbers as text, times in ms).
#[derive(Clone, Debug, PartialEq)]
pub struct RoomUpdate(pub Vec<(&'static str, String)>);

/// The most fans one tick may admit, and the most ACTIVE at once.
pub const MAX_ADMIT_PER_TICK: i64 = 1_000_000;
pub const MAX_ACTIVE_CAP: i64 = 10_000_000;

impl RoomUpdateRequest {
    pub fn validate(self) -> Result<RoomUpdate, ValidationError> {
        let bad = |message: String| ValidationError::new(Field::RoomSettings, message);
        let mut out = Vec::new();
        if let Some(n) = self.admit_per_tick {
            if !(0..=MAX_ADMIT_PER_TICK).contains(&n) {
                return Err(bad(format!("admitPerTick must be from 0 to {MAX_ADMIT_PER_TICK}")));
            }
            out.push(("admitPerTick", n.to_string()));
        }
        if let Some(n) = self.active_cap {
            if !(1..=MAX_ACTIVE_CAP).contains(&n) {
                return Err(bad(format!("activeCap must be from 1 to {MAX_ACTIVE_CAP}")));
            }
            out.push(("activeCap", n.to_string()));
        }
        if let Some(x) = self.overbooking {
            if !(x.is_finite() && (0.1..=10.0).contains(&x)) {
                return Err(bad("overbooking must be from 0.1 to 10".into()));
            }
            out.push(("overbooking", x.to_string()));
        }
        if let Some(paused) = self.paused {
            out.push(("paused", if paused { "1" } else { "0" }.into()));
        }
        for (name, raw) in [("prequeueOpensAt", &self.prequeue_opens_at), ("opensAt", &self.opens_at)] {
            if let Some(raw) = raw {
                let ms = super::models::parse_rfc3339_ms(raw)
                    .ok_or_else(|| ValidationError::new(Field::SaleWindow, format!("{name} must be an RFC 3339 UTC time")))?;
                out.push((name, ms.to_string()));
            }
        }
        if out.is_empty() {
            return Err(bad("nothing to change: send admitPerTick, activeCap, overbooking, paused, prequeueOpensAt or opensAt".into()));
        }
        Ok(RoomUpdate(out))
    }
}

#[cfg(test)]
mod concert_tests {
    use super::*;

    fn request(starts_at: &str, price: i64, seats: i64) -> NewConcertRequest {
        NewConcertRequest {
            title: " Winter Live ".into(),
            venue: "Olympic Hall".into(),
            prequeue_opens_at: None,
            opens_at: None,
            schedules: vec![NewScheduleRequest { starts_at: starts_at.into(), price, seat_count: seats }],
        }
    }

    #[test]
    fn a_valid_concert_gets_ids_and_normalised_fields() {
        let (c, sale) = request("2026-12-24T19:00:00Z", 50_000, 50).into_concert(1_000).unwrap();
        assert_eq!(sale, SaleTimes { prequeue_opens_at_ms: 1_000, opens_at_ms: 1_000 });
        assert_eq!(c.sale.opens_at, "1970-01-01T00:00:01.000Z");
        assert_eq!(c.sale.prequeue_opens_at, c.sale.opens_at);
        assert_eq!(c.title, "Winter Live");
        assert_eq!(c.schedules[0].starts_at, "2026-12-24T19:00:00Z");
        assert_eq!(c.schedules[0].seat_count, 50);
        assert_eq!(c.concert_id.as_str().len(), 32);
    }

    #[test]
    fn bad_fields_are_named() {
        let field = |r: NewConcertRequest| r.into_concert(0).unwrap_err().field;
        assert_eq!(field(request("tomorrow", 1, 1)), Field::StartsAt);
        assert_eq!(field(request("2026-12-24T19:00:00Z", -1, 1)), Field::Price);
        assert_eq!(field(request("2026-12-24T19:00:00Z", 1, 0)), Field::SeatCount);
        let mut r = request("2026-12-24T19:00:00Z", 1, 1);
        r.schedules.clear();
        assert_eq!(field(r), Field::Schedules);
        let mut r = request("2026-12-24T19:00:00Z", 1, 1);
        r.venue = "v".repeat(201);
        assert_eq!(field(r), Field::Venue);
        let mut r = request("2026-12-24T19:00:00Z", 1, 1);
        (r.prequeue_opens_at, r.opens_at) = (Some("2026-12-01T10:00:00Z".into()), Some("2026-12-01T09:00:00Z".into()));
        assert_eq!(field(r), Field::SaleWindow);
    }

    #[test]
    fn sale_windows_default_to_now_and_keep_their_order() {
        let t = |p: Option<&str>, o: Option<&str>| SaleTimes::parse(p, o, 5_000);
        assert_eq!(t(None, None).unwrap(), SaleTimes { prequeue_opens_at_ms: 5_000, opens_at_ms: 5_000 });
        let opens = t(None, Some("1970-01-01T00:00:10Z")).unwrap();
        assert_eq!((opens.prequeue_opens_at_ms, opens.opens_at_ms), (10_000, 10_000));
        let both = t(Some("1970-01-01T00:00:08Z"), Some("1970-01-01T00:00:10Z")).unwrap();
        assert_eq!((both.prequeue_opens_at_ms, both.opens_at_ms), (8_000, 10_000));
        assert!(t(Some("soon"), None).is_err());
    }

    #[test]
    fn room_updates_are_checked_field_by_field() {
        let ok = RoomUpdateRequest { admit_per_tick: Some(0), paused: Some(true), overbooking: Some(1.5), ..Default::default() };
        assert_eq!(
            ok.validate().unwrap().0,
            vec![("admitPerTick", "0".to_string()), ("overbooking", "1.5".to_string()), ("paused", "1".to_string())]
        );
        for bad in [
            RoomUpdateRequest { admit_per_tick: Some(-1), ..Default::default() },
            RoomUpdateRequest { active_cap: Some(0), ..Default::default() },
            RoomUpdateRequest { overbooking: Some(f64::NAN), ..Default::default() },
            RoomUpdateRequest::default(),
        ] {
            assert_eq!(bad.validate().unwrap_err().field, Field::RoomSettings);
        }
        let when = RoomUpdateRequest { opens_at: Some("tomorrow".into()), ..Default::default() };
        assert_eq!(when.validate().unwrap_err().field, Field::SaleWindow);
    }
}
