//! The waiting room's arithmetic: what a status check reports, when the client should ask again,
//! the room's state for the catalog, and how many seats admission may still count on.

use serde::{Deserialize, Serialize};

use super::challenge::Door;
use super::forecast::Forecast;

/// A queue token's state as the store reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum QueuePosition {
    /// In the pre-queue: the sale opens at `opens_at_ms`, when the pre-queue is placed in a
    /// random order ahead of later arrivals. No position yet.
    Prequeue {
        opens_at_ms: u64,
    },
    /// `position` is 1 for the front of the line. `line` is what the last tick measured of the
    /// line ahead: how fast it moves and the seats it can count on. `paused` when an operator
    /// stopped admission (every place is kept). `place` counts from the first fan the room ever
    /// admitted: `place - admittedTotal` of the public room state (`api::RoomState`) is the position again.
    Waiting {
        position: u64,
        line: LineAhead,
        paused: bool,
        place: u64,
    },
    Active {
        expires_at_ms: u64,
    },
    /// Every seat is sold: nobody else will be admitted.
    SoldOut,
    /// Left, dropped as abandoned, or its ACTIVE time is over: take a new place.
    Expired,
}

/// A room's state as fans and operators see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoomStatus {
    /// Before the pre-queue opens: no places yet.
    Scheduled,
    /// Places are taken, to be drawn in random order at the opening.
    Prequeue,
    /// Admitting.
    Open,
    /// An operator stopped admission; every place is kept.
    Paused,
    /// Every seat is sold.
    SoldOut,
    /// Every performance has started.
    Closed,
}

/// A room's settings: the sale times and what operators may change while it runs. `None` means
/// the environment's default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoomSettings {
    pub prequeue_opens_at_ms: u64,
    pub opens_at_ms: u64,
    pub admit_per_tick: Option<u64>,
    pub active_cap: Option<u64>,
    pub overbooking: Option<f64>,
    /// The operator's autopilot switch; `None`: the environment's default (`AUTOPILOT`).
    pub autopilot: Option<bool>,
    /// The autopilot's target p95 for this room; `None`: the environment's (`TARGET_P95_MS`).
    pub target_p95_ms: Option<u64>,
    /// The door's proof-of-work bounds for this room; `None`: the environment's
    /// (`POW_MIN_BITS`, `POW_MAX_BITS`).
    pub pow_min_bits: Option<u8>,
    pub pow_max_bits: Option<u8>,
    /// Presale-only: a new place needs one of the room's codes.
    pub presale: bool,
    pub paused: bool,
    /// The first tick at or after `opens_at_ms` ran: the order of the line is set.
    pub opened: bool,
    pub sold_out: bool,
}

impl RoomSettings {
    /// The door this room keeps, with the environment's `defaults` for what it has not set.
    pub fn door(&self, defaults: Door) -> Door {
        Door { min_bits: self.pow_min_bits.unwrap_or(defaults.min_bits), max_bits: self.pow_max_bits.unwrap_or(defaults.max_bits) }
    }

    /// Before the opening: fans gather in the pre-queue.
    pub fn in_prequeue(&self, now_ms: u64) -> bool {
        !self.opened && now_ms < self.opens_at_ms
    }

    /// The state at `now_ms`, given when the last performance starts.
    pub fn status(&self, now_ms: u64, last_start_ms: u64) -> RoomStatus {
        if self.sold_out {
            RoomStatus::SoldOut
        } else if now_ms >= last_start_ms {
            RoomStatus::Closed
        } else if now_ms < self.prequeue_opens_at_ms {
            RoomStatus::Scheduled
        } else if !self.opened && now_ms < self.opens_at_ms {
            RoomStatus::Prequeue
        } else if self.paused {
            RoomStatus::Paused
        } else {
            RoomStatus::Open
        }
    }
}

/// A concert's seats across its schedules, as admission sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    pub seats: u64,
    pub sold: u64,
    /// Live holds (not lapsed).
    pub held: u64,
    /// Fans with at least one live hold (counted per schedule).
    pub fans_holding: u64,
    /// The seats the live holds are expected to sell (`HoldOutlook::seats_to_sell`), where the
    /// holds' outlook was read with the counts: the tick's seats per admitted fan then counts the
    /// fans holding, not only those done.
    #[serde(skip)]
    pub holds_to_sell: Option<u64>,
}

impl Inventory {
    pub fn available(&self) -> u64 {
        self.seats.saturating_sub(self.sold + self.held)
    }

    pub fn sold_out(&self) -> bool {
        self.seats > 0 && self.sold >= self.seats
    }
}

/// The line ahead of a waiting fan as the room's last tick measured it (`room_tick.lua`): how fast
/// it moves and the seats it can still count on. A waiting fan's status and the public room state
/// carry the same, so a fan following either is told the same wait and the same chance.
///
/// Admission runs at the room's pace (its `admitPerTick`, or the autopilot's limit) until the
/// ACTIVE cap or the inventory bound stops it; past that the line moves only as admitted fans
/// finish and seats come back. So a fan within the `headroom` is a pace away, and a fan beyond it
/// waits on the rate the line moved while bound. In a drop the headroom is spent in the opening's
/// first ticks and the bound rate is what the rest of the line lives on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LineAhead {
    /// Admissions per second over the recent ticks where fans were left waiting (exponentially
    /// weighted: about the last 5 s).
    pub admitted_per_second: Option<f64>,
    /// Admissions per second at the last tick's limit.
    pub pace: Option<f64>,
    /// How many more fans the ACTIVE cap and the inventory bound let in before anyone admitted
    /// finishes: under the bound each fan takes its seats times the overbooking factor once it
    /// holds them, so the seat room lasts room / (overbooking × seats per fan) fans.
    pub headroom: Option<u64>,
    /// Admissions per second over the ticks where the cap or the inventory held admission under
    /// its limit (about the last two minutes of them); `None` until they span 30 s.
    pub bound_rate: Option<f64>,
    /// `None` until a tick has measured them.
    pub seats: Option<SeatsAhead>,
    /// When each place is likely to be let in, as the last tick forecast it from the live holds
    /// (`domain::forecast`); `None` while the room is paused or before a tick made one.
    pub forecast: Option<Forecast>,
}

/// The seats the waiting line can still count on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeatsAhead {
    /// Seats an admitted fan buys, on average: the seats sold and those the live holds are
    /// expected to sell ([`Inventory::holds_to_sell`]) over the admitted fans who are done (no
    /// longer ACTIVE) or holding, starting from [`SEATS_PER_FAN_PRIOR`] as if [`PRIOR_FANS`] fans
    /// had bought that many each, so the first few fans do not swing it.
    pub per_fan: f64,
    /// Seats neither sold nor held, less what the admitted fans still choosing are expected to buy
    /// (at most those seats): what the line gets if every live hold is paid.
    pub if_holds_paid: f64,
    /// The same if every live hold lapses and its seats come back.
    pub if_holds_lapse: f64,
}

/// Where the seats-per-fan estimate starts: one seat per admitted fan.
pub const SEATS_PER_FAN_PRIOR: f64 = 1.0;
/// How many finished fans the prior is worth.
pub const PRIOR_FANS: u64 = 20;
/// A fan is told `LIKELY` while the fans up to them want at most this share of the seats left
/// with every hold paid.
pub const LIKELY_SHARE: f64 = 0.8;
/// A fan is told `UNLIKELY` once the fans up to them want more than this many times the seats
/// left even if every hold lapsed: wrong only if the fans ahead buy half as much as those before
/// them did, or leave the line in droves. (At 1.5, 2.1 % and 6.1 % of the buyers in two drop
/// runs had been told `UNLIKELY` at some point; the goal is at most 5 %.)
pub const UNLIKELY_FACTOR: f64 = 2.0;

/// A waiting fan's chance of a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Chance {
    /// Enough seats for everyone up to this fan, with room to spare, even if every hold is paid.
    Likely,
    /// It depends on how much the fans ahead buy and on holds lapsing.
    Possible,
    /// The fans ahead want far more than the seats left, even if every hold lapses.
    Unlikely,
}

impl SeatsAhead {
    /// The last position told [`Chance::Likely`] (0: none).
    pub fn likely_through(&self) -> u64 {
        (LIKELY_SHARE * self.if_holds_paid.max(0.0) / self.per_fan.max(1e-9)).floor() as u64
    }

    /// The first position told [`Chance::Unlikely`].
    pub fn unlikely_from(&self) -> u64 {
        ((UNLIKELY_FACTOR * self.if_holds_lapse.max(0.0) / self.per_fan.max(1e-9)).floor() as u64).saturating_add(1)
    }

    /// The chance of the fan at `position`: from the seats the fans up to it want
    /// (`position × per_fan`) against the seats left.
    pub fn chance(&self, position: u64) -> Chance {
        if position <= self.likely_through() {
            Chance::Likely
        } else if position >= self.unlikely_from() {
            Chance::Unlikely
        } else {
            Chance::Possible
        }
    }

    /// Seats the fans up to `position` are expected to buy.
    pub fn wanted_through(&self, position: u64) -> f64 {
        position as f64 * self.per_fan
    }
}

/// Seconds until the waiting fan at `position` (at `place`, counted as the forecast counts) is
/// admitted, at `now_ms`. Where the last tick's forecast covers the place, when it says
/// (`domain::forecast`: the bursts of a bound line, from the holds ahead and when they lapse);
/// past it, nothing, unless the ACTIVE cap stopped the forecast, whose line then moves at the rate
/// it moved while bound. Without a forecast (a line read before any tick made one), from the pace
/// and headroom ([`LineAhead`]). At least 1 s while waiting.
pub fn eta_seconds(position: u64, place: u64, now_ms: u64, line: &LineAhead) -> Option<u64> {
    let seconds = |at_ms: u64| at_ms.saturating_sub(now_ms).div_ceil(1000).max(1);
    match &line.forecast {
        Some(forecast) => {
            if let Some(at) = forecast.at(place) {
                return Some(seconds(at));
            }
            if !forecast.cap_bound {
                return None;
            }
            let bound = line.bound_rate.filter(|r| *r >= 0.01)?;
            let (last, at) = forecast.last().unwrap_or((forecast.head.saturating_sub(1), now_ms));
            Some(seconds(at + ((place - last) as f64 / bound * 1000.0) as u64))
        }
        None => rate_eta_seconds(position, line),
    }
}

/// The ETA without a forecast: within the headroom, the position at the room's pace; beyond it,
/// the headroom at that pace and the rest at the rate the line moved while bound. `None` when it
/// cannot be known: before the first tick, at a pace of nothing, or beyond the headroom before the
/// line has ever been bound, or bound and not moving.
fn rate_eta_seconds(position: u64, line: &LineAhead) -> Option<u64> {
    let pace = line.pace.filter(|p| *p >= 0.01)?;
    let headroom = line.headroom.unwrap_or(0);
    if position <= headroom {
        return Some((position as f64 / pace).ceil() as u64);
    }
    let bound = line.bound_rate.filter(|r| *r >= 0.01)?;
    Some((headroom as f64 / pace + (position - headroom) as f64 / bound).ceil() as u64)
}

/// The `Retry-After` for a waiting client: half the expected wait, so a fan asks about twice as
/// often as the wait halves (a fan a minute away asks after 30, 45, 53, 57 and 59 s), at least
/// once a second and at most every 30 s: the front of the line polls often and the back of a long
/// line barely costs anything. Every poll of a waiting fan is load the booking path does not get
/// to use, and on a machine the fans share with the service (the load tests) their polls are most
/// of the requests; a third of the ETA cost about half as many again. The cap
/// stays well below `WAIT_IDLE_SECONDS`, so a client that obeys it is never dropped as idle.
pub fn retry_after_seconds(position: u64, eta: Option<u64>) -> u64 {
    let guess = match eta {
        Some(eta) => eta.div_ceil(2),
        // No rate observed yet: grow with the distance to the front.
        None => position / 1_000,
    };
    guess.clamp(1, MAX_RETRY_AFTER_SECONDS)
}

/// The longest `Retry-After` a waiting fan is told.
pub const MAX_RETRY_AFTER_SECONDS: u64 = 30;

/// The `Retry-After` of a paused line, and of a line that has moved before but shows no rate now
/// (every seat held, the ACTIVE cap full): nothing new can be told until it moves again, and a
/// fan whose turn then comes notices within this, well inside [`ADMITTED_NO_SHOW_MS`].
pub const STOPPED_LINE_RETRY_SECONDS: u64 = 10;
const _: () = assert!(STOPPED_LINE_RETRY_SECONDS * 1000 < ADMITTED_NO_SHOW_MS);

/// The `Retry-After` for a waiting fan at `position` whose `place` counts from the room's first
/// admission (so `place - position` fans were admitted before), with the ETA known or not. A line
/// that never moved yet (the opening's first seconds) is asked by position, as before; one that
/// moved and stopped is asked every [`STOPPED_LINE_RETRY_SECONDS`], not every second.
pub fn waiting_retry_after(position: u64, place: u64, eta: Option<u64>, paused: bool) -> u64 {
    let moved_before = place > position;
    match (paused, eta) {
        (true, _) => STOPPED_LINE_RETRY_SECONDS,
        (false, None) if moved_before => STOPPED_LINE_RETRY_SECONDS.max(retry_after_seconds(position, None)),
        (false, eta) => retry_after_seconds(position, eta),
    }
}

/// How long a fan just admitted has to show up before the slot goes back: a waiting fan obeying
/// `Retry-After` polls within [`MAX_RETRY_AFTER_SECONDS`], plus a few seconds for the tick and the
/// network. A fan who closed the tab while waiting is admitted like the others and, without this,
/// would keep an ACTIVE slot for the whole `ACTIVE_IDLE_SECONDS`, which near a sell-out is what the
/// last seats wait for. Once the fan has made a request, `ACTIVE_IDLE_SECONDS` applies.
pub const ADMITTED_NO_SHOW_MS: u64 = (MAX_RETRY_AFTER_SECONDS + 5) * 1000;
// A fan who obeys Retry-After is never taken for a no-show.
const _: () = assert!(ADMITTED_NO_SHOW_MS > MAX_RETRY_AFTER_SECONDS * 1000);

/// The last-seen time a tick records for a fan it admits at `now_ms`: early enough that the fan is
/// given the slot back after [`ADMITTED_NO_SHOW_MS`] (or `active_idle_ms`, if shorter) unless a
/// request refreshes it first.
pub fn admitted_seen_ms(now_ms: u64, active_idle_ms: u64) -> u64 {
    now_ms.saturating_sub(active_idle_ms) + active_idle_ms.min(ADMITTED_NO_SHOW_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_moves_through_its_states() {
        let mut s = RoomSettings { prequeue_opens_at_ms: 100, opens_at_ms: 200, ..Default::default() };
        assert_eq!(s.status(99, 1_000), RoomStatus::Scheduled);
        assert_eq!(s.status(100, 1_000), RoomStatus::Prequeue);
        assert_eq!(s.status(200, 1_000), RoomStatus::Open);
        s.paused = true;
        assert_eq!(s.status(300, 1_000), RoomStatus::Paused);
        assert_eq!(s.status(1_000, 1_000), RoomStatus::Closed);
        s.sold_out = true;
        assert_eq!(s.status(300, 1_000), RoomStatus::SoldOut);
    }

    #[test]
    fn available_seats_are_neither_sold_nor_held() {
        let i = Inventory { seats: 10, sold: 6, held: 3, fans_holding: 2, holds_to_sell: None };
        assert_eq!((i.available(), i.sold_out()), (1, false));
        assert!(Inventory { seats: 10, sold: 10, held: 0, fans_holding: 0, holds_to_sell: None }.sold_out());
        assert!(!Inventory::default().sold_out());
    }

    fn line(pace: Option<f64>, headroom: u64, bound_rate: Option<f64>) -> LineAhead {
        LineAhead { pace, headroom: Some(headroom), bound_rate, ..Default::default() }
    }

    #[test]
    fn eta_is_the_pace_within_the_headroom_and_the_bound_rate_beyond() {
        // Plenty of room: the pace.
        assert_eq!(eta_seconds(100, 100, 0, &line(Some(50.0), 10_000, None)), Some(2));
        assert_eq!(eta_seconds(101, 101, 0, &line(Some(50.0), 10_000, None)), Some(3));
        // A drop: 100 more may come in at 50 a second, then the line moved 2 a second while bound.
        assert_eq!(eta_seconds(100, 100, 0, &line(Some(50.0), 100, Some(2.0))), Some(2));
        assert_eq!(eta_seconds(300, 300, 0, &line(Some(50.0), 100, Some(2.0))), Some(102));
        // The opening's first ticks: beyond the headroom nobody can know yet; a line bound and
        // still: nobody can either; no tick yet, or a pace of nothing.
        assert_eq!(eta_seconds(300, 300, 0, &line(Some(50.0), 100, None)), None);
        assert_eq!(eta_seconds(300, 300, 0, &line(Some(50.0), 0, Some(0.0))), None);
        assert_eq!(eta_seconds(1, 1, 0, &LineAhead::default()), None);
        assert_eq!(eta_seconds(1, 1, 0, &line(Some(0.0), 10, None)), None);
    }

    #[test]
    fn with_a_forecast_the_eta_is_when_it_lets_the_place_in() {
        use crate::domain::forecast::Run;
        let runs = vec![Run { to: 115, start_ms: 8_000, end_ms: 8_000 }, Run { to: 130, start_ms: 28_000, end_ms: 30_000 }];
        let forecast = Forecast { head: 101, runs, cap_bound: false };
        let ahead = LineAhead { forecast: Some(forecast.clone()), bound_rate: Some(2.0), ..line(Some(50.0), 0, None) };
        // Place 101 is position 1; the rate model would say a second, the forecast the burst in 8.
        assert_eq!(eta_seconds(1, 101, 0, &ahead), Some(8));
        assert_eq!(eta_seconds(15, 115, 500, &ahead), Some(8));
        assert_eq!(eta_seconds(30, 130, 0, &ahead), Some(30));
        assert_eq!(eta_seconds(1, 101, 9_000, &ahead), Some(1), "late: any moment now");
        assert_eq!(eta_seconds(31, 131, 0, &ahead), None, "past the forecast nothing lets it in");
        let capped = LineAhead { forecast: Some(Forecast { cap_bound: true, ..forecast }), ..ahead };
        assert_eq!(eta_seconds(40, 140, 0, &capped), Some(35), "the cap: 10 more at 2 a second after 30 s");
    }

    #[test]
    fn the_chance_weighs_the_seats_the_fans_ahead_want_against_the_seats_left() {
        // 100 seats left if every hold is paid, 150 if every one lapses; fans buy 2 each.
        let seats = SeatsAhead { per_fan: 2.0, if_holds_paid: 100.0, if_holds_lapse: 150.0 };
        // Likely while the fans up to you want at most 80 seats: through position 40.
        assert_eq!((seats.likely_through(), seats.chance(40), seats.chance(41)), (40, Chance::Likely, Chance::Possible));
        // Unlikely once they want more than 2 x 150 = 300 seats: from position 151.
        assert_eq!((seats.unlikely_from(), seats.chance(150), seats.chance(151)), (151, Chance::Possible, Chance::Unlikely));
        assert_eq!(seats.wanted_through(40), 80.0);
        // Nothing left even if every hold lapses: unlikely from the front; nothing bought yet
        // and plenty left: likely far back.
        let gone = SeatsAhead { per_fan: 1.0, if_holds_paid: -3.0, if_holds_lapse: 0.0 };
        assert_eq!((gone.likely_through(), gone.chance(1)), (0, Chance::Unlikely));
        let nobody_buys = SeatsAhead { per_fan: 0.0, if_holds_paid: 10.0, if_holds_lapse: 10.0 };
        assert_eq!(nobody_buys.chance(1_000_000), Chance::Likely);
    }

    #[test]
    fn retry_after_grows_with_distance_and_is_bounded() {
        assert_eq!(retry_after_seconds(1, Some(1)), 1);
        assert!(retry_after_seconds(10_000, Some(100)) > retry_after_seconds(100, Some(1)));
        assert_eq!(retry_after_seconds(1_000_000, Some(10_000)), 30);
        assert_eq!(retry_after_seconds(5, None), 1);
        assert_eq!(retry_after_seconds(20_000, None), 20);
    }

    #[test]
    fn a_stopped_line_is_asked_every_ten_seconds_not_every_second() {
        // The opening: nobody admitted yet, no rate: by position.
        assert_eq!(waiting_retry_after(5, 5, None, false), 1);
        // Moved before, no rate now: a stopped line.
        assert_eq!(waiting_retry_after(5, 105, None, false), STOPPED_LINE_RETRY_SECONDS);
        assert_eq!(waiting_retry_after(25_000, 25_100, None, false), 25, "far back, as before");
        assert_eq!(waiting_retry_after(5, 105, Some(60), false), 30);
        assert_eq!(waiting_retry_after(5, 105, Some(60), true), STOPPED_LINE_RETRY_SECONDS);
    }

    #[test]
    fn an_admitted_fan_who_never_shows_up_gives_the_slot_back_sooner_than_an_idle_one() {
        let (now, idle) = (1_000_000, 60_000);
        let seen = admitted_seen_ms(now, idle);
        // The tick gives back a slot whose last-seen time is before `now - idle`.
        let given_back_at = seen + idle;
        assert_eq!(given_back_at - now, ADMITTED_NO_SHOW_MS);
        // An idle time shorter than the no-show grace wins.
        assert_eq!(admitted_seen_ms(now, 10_000), now);
    }
}
