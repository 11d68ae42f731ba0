//! What operators send: a new concert with its schedules and sale window
//! (`POST /admin/concerts`), and a change of a room's settings (`PATCH /admin/concerts/{id}/room`),
//! each validated into domain values.

use super::challenge::MAX_BITS;
use super::inputs::{Amount, MAX_SEATS};
use super::{Field, ValidationError};

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
    /// The autopilot's switch for this room.
    pub autopilot: Option<bool>,
    /// The booking path's p95 the autopilot keeps this room at or under.
    pub target_p95_ms: Option<i64>,
    /// The door's proof of work: the fewest and most leading zero bits a join's solution needs
    /// (`powMaxBits` 0 opens the door to all).
    pub pow_min_bits: Option<i64>,
    pub pow_max_bits: Option<i64>,
    /// Presale-only: a new place needs one of the room's codes (`POST /admin/concerts/{id}/codes`).
    pub presale: Option<bool>,
}

/// A validated room change: each setting as the store keeps it (numbers as text, times in ms).
#[derive(Clone, Debug, PartialEq)]
pub struct RoomUpdate(pub Vec<(&'static str, String)>);

/// The highest target p95 an operator may set, in milliseconds.
pub const MAX_TARGET_P95_MS: i64 = 10_000;

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
        if let Some(on) = self.autopilot {
            out.push(("autopilot", if on { "1" } else { "0" }.into()));
        }
        if let Some(on) = self.presale {
            out.push(("presale", if on { "1" } else { "0" }.into()));
        }
        if let Some(ms) = self.target_p95_ms {
            if !(1..=MAX_TARGET_P95_MS).contains(&ms) {
                return Err(bad(format!("targetP95Ms must be from 1 to {MAX_TARGET_P95_MS}")));
            }
            out.push(("targetP95Ms", ms.to_string()));
        }
        for (name, bits) in [("powMinBits", self.pow_min_bits), ("powMaxBits", self.pow_max_bits)] {
            if let Some(bits) = bits {
                if !(0..=i64::from(MAX_BITS)).contains(&bits) {
                    return Err(bad(format!("{name} must be from 0 to {MAX_BITS}")));
                }
                out.push((name, bits.to_string()));
            }
        }
        if let (Some(min), Some(max)) = (self.pow_min_bits, self.pow_max_bits) {
            if max > 0 && min > max {
                return Err(bad("powMinBits must not be above powMaxBits".into()));
            }
        }
        for (name, raw) in [("prequeueOpensAt", &self.prequeue_opens_at), ("opensAt", &self.opens_at)] {
            if let Some(raw) = raw {
                let ms = super::models::parse_rfc3339_ms(raw)
                    .ok_or_else(|| ValidationError::new(Field::SaleWindow, format!("{name} must be an RFC 3339 UTC time")))?;
                out.push((name, ms.to_string()));
            }
        }
        if out.is_empty() {
            return Err(bad(
                "nothing to change: send admitPerTick, activeCap, overbooking, paused, autopilot, targetP95Ms, powMinBits, powMaxBits, presale, prequeueOpensAt or opensAt"
                    .into(),
            ));
        }
        Ok(RoomUpdate(out))
    }
}

#[cfg(test)]
mod tests {
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
