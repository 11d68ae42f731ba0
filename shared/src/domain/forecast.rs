//! When each place in the line is likely to be let in: a forecast each admission tick makes from
//! what the seats' side knows, so a waiting fan is told the burst that will let it in rather than
//! an average rate.
//!
//! In a drop the line is bound by the inventory: the tick admits a fan only while the seats left
//! times the overbooking factor exceed the fans still choosing (`room_tick.lua`). Seats come back
//! when holds lapse, and holds lapse at known times: every live hold's expiry is in its schedule's
//! `holds` set. Fans admitted together hold together and their unpaid holds lapse together, so the
//! line moves in bursts an average rate cannot describe (at 10 s before admission, a rate was off
//! by a median of 62 %). The forecast plays the inventory bound forward one tick at a time:
//!
//! - each live hold gives its seat back at its expiry with the chance that a hold still unpaid at
//!   its age lapses ([`HoldOutlook::lapse_chance`]: from the share of held seats that lapse and how
//!   long paid holds took to be paid, both counted by the scripts that end holds, the share
//!   counting the live holds unpaid for longer than paid holds take as lapsing: with holds of
//!   minutes, the holds that ended early in a sale are nearly all paid ones);
//! - a tick admits up to its limit, the ACTIVE cap's room and the inventory bound's room, as the
//!   tick does, each fan taking one unit of room;
//! - each ACTIVE fan not seen for [`ENGAGED_MS`] (the fan's page asks every 5 s) gives its unit back
//!   when it idles out, if it was seen since its admission (it is gone), or with the measured share
//!   of admitted fans who never show up, if not (it may still come: a fan following the line
//!   notices its turn at its next poll);
//! - each fan admitted, and each already choosing, then holds what admitted fans hold on average
//!   (the seats they buy, and the seats they hold and let lapse), taking the overbooking factor
//!   times that, [`hold_delay_ms`] after its admission (measured: the time in the booking path of
//!   the fans who bought, less the time their holds took to be paid; a fan choosing now halfway
//!   there): until then it counts one unit, as the tick counts it, and the tick lets more in. Fans
//!   who notice their admission late (a line told a long wait asks every 30 s) hold late: taking
//!   each hold at once forecast 380 fans let in at the opening of a drop with holds of 2 minutes
//!   where the tick let 559 in within 12 s (`k6/RESULTS.md`, the longer drop). The lapsing share
//!   comes back a hold after the hold.
//!
//! What it leaves out, so it is early or late by them: fans who leave while choosing (their unit
//! comes back sooner), a fan whose hold lapsed counting as choosing again until it idles,
//! the ACTIVE cap freeing as fans finish (the forecast stops where the cap binds and the ETA falls
//! back to the rate the line moved while bound), and the operator's or the autopilot's changes.

use super::report::{SecondsHistogram, SECONDS_BUCKETS};

/// Where the share of held seats that lapse starts, before the sale has seen its own.
pub const LAPSE_SHARE_PRIOR: f64 = 0.5;
/// How many seats that start is worth.
pub const LAPSE_PRIOR_SEATS: f64 = 20.0;
/// The share used is at most this, so a sale of mostly lapsing holds still forecasts a finite
/// number of holds per fan.
const MAX_LAPSE_SHARE: f64 = 0.9;

/// Where the share of admitted fans who never show up starts, before the sale has seen its own.
pub const NO_SHOW_SHARE_PRIOR: f64 = 0.25;
/// How many fans that start is worth.
pub const NO_SHOW_PRIOR_FANS: f64 = 20.0;
/// An ACTIVE fan not seen for this long is taken for gone or not yet there: the fan's page asks
/// for the seat map every 5 s while a fan chooses and pays.
pub const ENGAGED_MS: u64 = 10_000;

/// How far ahead the forecast looks.
pub const HORIZON_MS: u64 = 3_600_000;
/// The most runs a forecast keeps (each is one field of every waiting fan's status): closer runs
/// are merged where a straight line between them is off by little.
pub const MAX_RUNS: usize = 16;

/// What the seats' side knows of the holds: when the live ones lapse, how long paid ones took.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HoldOutlook {
    /// The expiry of each live hold (one seat each), earliest first, as many as were read.
    pub expiries_ms: Vec<u64>,
    /// Live holds beyond those read (each schedule's first `HOLDS_FORECAST`): the youngest.
    pub unread: u64,
    /// Seats whose hold lapsed or whose payment was voided.
    pub lapsed: u64,
    /// Seats sold.
    pub sold: u64,
    /// Paid holds by the time they took (`paidIn:<bound>` of each schedule's meta).
    pub paid_in: SecondsHistogram,
}

impl HoldOutlook {
    /// Adds another schedule's holds.
    pub fn add(&mut self, other: HoldOutlook) {
        self.expiries_ms.extend(other.expiries_ms);
        self.expiries_ms.sort_unstable();
        self.unread += other.unread;
        self.lapsed += other.lapsed;
        self.sold += other.sold;
        for (mine, theirs) in self.paid_in.counts.iter_mut().zip(other.paid_in.counts) {
            *mine += theirs;
        }
    }

    /// The share of held seats that lapse, from the holds that ended: lapsed over lapsed and sold,
    /// starting from [`LAPSE_SHARE_PRIOR`] worth [`LAPSE_PRIOR_SEATS`]. Early in a sale with long
    /// holds it is low, as a paid hold ends within seconds and an unpaid one only at its expiry:
    /// [`HoldOutlook::lapse_share`] counts the live holds too.
    fn ended_lapse_share(&self) -> f64 {
        let (lapsed, sold) = (self.lapsed as f64, self.sold as f64);
        ((lapsed + LAPSE_SHARE_PRIOR * LAPSE_PRIOR_SEATS) / (lapsed + sold + LAPSE_PRIOR_SEATS)).min(MAX_LAPSE_SHARE)
    }

    /// The share of held seats that lapse, counting each live hold (at `now_ms`, holds lasting
    /// `hold_ms`) as lapsing with its [`HoldOutlook::lapse_chance`]: a hold unpaid for longer than
    /// paid holds take is as good as lapsed; the live holds not read (`unread`, the youngest)
    /// lapse at the share. The chance rests on the share, so the share is the point where the two
    /// agree: where the share the holds give at a share is that share. Above the ended holds'
    /// share the holds give at least as much, and at [`MAX_LAPSE_SHARE`] at most as much, and what
    /// they give is concave in the share, so there is one such point between: found by halving.
    pub fn lapse_share(&self, now_ms: u64, hold_ms: u64) -> f64 {
        let ended = self.ended_lapse_share();
        if self.expiries_ms.is_empty() && self.unread == 0 {
            return ended;
        }
        let unpaid: Vec<f64> = self.expiries_ms.iter().map(|&expiry| self.unpaid_at(age_ms(now_ms, hold_ms, expiry))).collect();
        let unread = self.unread as f64;
        let seats = (self.lapsed + self.sold) as f64 + unpaid.len() as f64 + unread + LAPSE_PRIOR_SEATS;
        let given = |share: f64| {
            let live_lapsing: f64 = unpaid.iter().map(|&u| lapse_chance(share, u)).sum::<f64>() + unread * share;
            ((self.lapsed as f64 + live_lapsing + LAPSE_SHARE_PRIOR * LAPSE_PRIOR_SEATS) / seats).min(MAX_LAPSE_SHARE)
        };
        let (mut low, mut high) = (ended, MAX_LAPSE_SHARE);
        for _ in 0..SHARE_HALVINGS {
            let middle = (low + high) / 2.0;
            if given(middle) >= middle {
                low = middle;
            } else {
                high = middle;
            }
        }
        low
    }

    /// The share of paid holds that were still unpaid at `age_ms` (1 before any was paid), linear
    /// within each bucket.
    pub fn unpaid_at(&self, age_ms: u64) -> f64 {
        let total = self.paid_in.total();
        if total == 0 {
            return 1.0;
        }
        let age = age_ms as f64 / 1000.0;
        let mut later = 0.0;
        let mut lower = 0.0;
        for (slot, &count) in self.paid_in.counts.iter().enumerate() {
            let upper = SECONDS_BUCKETS.get(slot).map_or(f64::INFINITY, |b| *b as f64);
            later += count as f64
                * if age <= lower {
                    1.0
                } else if age >= upper {
                    0.0
                } else {
                    (upper - age) / (upper - lower)
                };
            lower = upper;
        }
        later / total as f64
    }

    /// The chance that a hold still unpaid at `age_ms` lapses, where `share` of held seats lapse
    /// ([`HoldOutlook::lapse_share`]): of the holds that reach that age unpaid, those that lapse
    /// (all of them) against those paid later.
    pub fn lapse_chance(&self, share: f64, age_ms: u64) -> f64 {
        lapse_chance(share, self.unpaid_at(age_ms))
    }

    /// The seats the live holds are expected to sell: each seat unless it lapses (those not read
    /// at the share).
    pub fn seats_to_sell(&self, now_ms: u64, hold_ms: u64) -> f64 {
        let share = self.lapse_share(now_ms, hold_ms);
        let read: f64 = self.expiries_ms.iter().map(|&expiry| 1.0 - self.lapse_chance(share, age_ms(now_ms, hold_ms, expiry))).sum();
        read + self.unread as f64 * (1.0 - share)
    }
}

/// Halvings of [`HoldOutlook::lapse_share`]'s interval: to within a billionth.
const SHARE_HALVINGS: usize = 30;

/// How old a hold lasting `hold_ms` and lapsing at `expiry_ms` is at `now_ms`.
fn age_ms(now_ms: u64, hold_ms: u64, expiry_ms: u64) -> u64 {
    hold_ms.saturating_sub(expiry_ms.saturating_sub(now_ms))
}

/// Of holds of which `share` lapse, the share of those still unpaid that lapse, where `unpaid` of
/// the paid ones are still unpaid.
fn lapse_chance(share: f64, unpaid: f64) -> f64 {
    let paid_later = (1.0 - share) * unpaid;
    if share + paid_later <= 0.0 {
        return 0.0;
    }
    share / (share + paid_later)
}

/// What the room knows of its ACTIVE fans not seen for [`ENGAGED_MS`]: when each idles out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IdleOutlook {
    /// The idle deadlines of fans seen since their admission, and not since: gone.
    pub gone_ms: Vec<u64>,
    /// The idle deadlines of fans not seen since their admission: they may still come.
    pub unseen_ms: Vec<u64>,
    /// The share of admitted fans who never came (`room_tick.lua` measures it: no-shows over the
    /// fans done, from [`NO_SHOW_SHARE_PRIOR`] worth [`NO_SHOW_PRIOR_FANS`]).
    pub no_show_share: f64,
}

/// The room as its tick left it, what the forecast starts from.
#[derive(Clone, Debug, PartialEq)]
pub struct Outlook {
    pub now_ms: u64,
    pub tick_ms: u64,
    /// How long a hold lasts (`HOLD_SECONDS`).
    pub hold_ms: u64,
    /// The place of the fan at the head of the line: the room's admitted total plus one.
    pub head_place: u64,
    pub waiting: u64,
    /// The most a tick admits: the room's `admitPerTick`, or the autopilot's limit.
    pub per_tick: f64,
    /// Slots left under the ACTIVE cap.
    pub cap_room: f64,
    /// The inventory bound's room, in its units: the seats available times the overbooking factor,
    /// less one for each admitted fan still choosing.
    pub seat_room: f64,
    /// Admitted fans without a live hold who are expected to hold: neither gone nor expected
    /// never to come (`choosingGone` of the tick).
    pub choosing: f64,
    pub overbooking: f64,
    /// Seats an admitted fan buys (`domain::queue::SeatsAhead::per_fan`: those sold and those the
    /// live holds are expected to sell, per fan done or holding).
    pub per_fan: f64,
    /// How long after its admission an admitted fan holds its seats, on average (see
    /// [`hold_delay_ms`]): until then it takes one unit of the bound's room, as the tick counts it.
    pub hold_delay_ms: u64,
    pub holds: HoldOutlook,
    pub idle: IdleOutlook,
}

/// How long after its admission an admitted fan holds its seats, on average: the mean time in the
/// booking path of the fans who bought (admission to the payment that ended their token, the
/// room's `path:` counts) less the mean time their holds took to be paid (`paidIn:`); 0 before
/// anyone bought. Fans who notice their admission late (a line told a long wait asks every 30 s)
/// hold late, and meanwhile the tick lets more in.
pub fn hold_delay_ms(booking_path: &SecondsHistogram, paid_in: &SecondsHistogram) -> u64 {
    match (booking_path.mean_seconds(), paid_in.mean_seconds()) {
        (Some(path), paid) => ((path - paid.unwrap_or(0.0)).max(0.0) * 1000.0) as u64,
        (None, _) => 0,
    }
}

/// Places `from..=to` are let in evenly from `start_ms` to `end_ms` (a burst when equal).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub to: u64,
    pub start_ms: u64,
    pub end_ms: u64,
}

/// When each place is likely to be let in: runs in place order from `head` on. Past the last run
/// the forecast knows nothing unless `cap_bound` (the ACTIVE cap stopped it: the line then moves as
/// admitted fans finish, at the rate it moved while bound).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Forecast {
    pub head: u64,
    pub runs: Vec<Run>,
    pub cap_bound: bool,
}

impl Forecast {
    /// Plays the room forward from `o` (see the module's comment).
    pub fn new(o: &Outlook) -> Forecast {
        let tick_ms = o.tick_ms.max(1);
        let ticks = (HORIZON_MS / tick_ms).max(1) as usize;
        // The first tick from now at or after `at_ms`, if within the horizon.
        let tick_of = |at_ms: u64| {
            let k = at_ms.saturating_sub(o.now_ms).div_ceil(tick_ms).max(1) as usize;
            (k <= ticks).then_some(k)
        };
        // The bound's room each tick gives back, in its units (a seat is worth the overbooking
        // factor, a fan choosing one).
        let mut released = vec![0.0; ticks + 1];
        let lapse = o.holds.lapse_share(o.now_ms, o.hold_ms);
        for &expiry in &o.holds.expiries_ms {
            if let Some(k) = tick_of(expiry) {
                released[k] += o.overbooking * o.holds.lapse_chance(lapse, age_ms(o.now_ms, o.hold_ms, expiry));
            }
        }
        for (deadlines, weight) in [(&o.idle.gone_ms, 1.0), (&o.idle.unseen_ms, o.idle.no_show_share)] {
            for &deadline in deadlines {
                if let Some(k) = tick_of(deadline) {
                    released[k] += weight;
                }
            }
        }
        // An admitted fan holds the seats it buys and the seats it lets lapse: per_fan / (1 - lapse),
        // `hold_delay_ms` after its admission; until then it takes one unit. The fans choosing now
        // are taken as halfway there.
        let lapsing_per_fan = o.per_fan * lapse / (1.0 - lapse);
        let take = o.overbooking * (o.per_fan + lapsing_per_fan);
        let extra = (take - 1.0).max(0.0);
        let choosing = o.choosing.max(0.0);
        let mut room = o.seat_room;
        let choosing_hold = o.now_ms + o.hold_delay_ms / 2;
        if let Some(k) = tick_of(choosing_hold) {
            released[k] -= choosing * extra;
        }
        if let Some(k) = tick_of(choosing_hold + o.hold_ms) {
            released[k] += o.overbooking * choosing * lapsing_per_fan;
        }
        let (mut cap, mut left, mut through) = (o.cap_room, o.waiting as f64, o.head_place.saturating_sub(1));
        let mut forecast = Forecast { head: o.head_place, ..Forecast::default() };
        let mut last_n = 0.0;
        for k in 1..=ticks {
            if left < 1.0 {
                break;
            }
            room += released[k];
            // (A hair over, so a room of exactly n fans made of fractions lets n in.)
            let n = (o.per_tick.min(room).min(cap).min(left) + 1e-9).floor();
            if n < 1.0 {
                if cap < 1.0 && room >= 1.0 {
                    forecast.cap_bound = true;
                    break;
                }
                continue;
            }
            let at = o.now_ms + k as u64 * tick_ms;
            through += n as u64;
            match forecast.runs.last_mut() {
                // The tick after the last admitting one, admitting as many: the same run goes on.
                Some(run) if run.end_ms + tick_ms == at && n == last_n => {
                    run.to = through;
                    run.end_ms = at;
                }
                _ => forecast.runs.push(Run { to: through, start_ms: at, end_ms: at }),
            }
            last_n = n;
            room -= n;
            match tick_of(at + o.hold_delay_ms) {
                Some(j) if j > k => released[j] -= n * extra,
                Some(_) => room -= n * extra,
                None => {}
            }
            cap -= n;
            left -= n;
            if let Some(j) = tick_of(at + o.hold_delay_ms + o.hold_ms) {
                released[j] += o.overbooking * n * lapsing_per_fan;
            }
        }
        forecast.merge(o.now_ms, tick_ms);
        forecast
    }

    /// Merges neighbouring runs until at most [`MAX_RUNS`] are left, each time the pair a straight
    /// line through is off by least, relative to how far ahead it is.
    fn merge(&mut self, now_ms: u64, tick_ms: u64) {
        while self.runs.len() > MAX_RUNS {
            let mut best = (f64::INFINITY, 0);
            for i in 0..self.runs.len() - 1 {
                let (a, b) = (self.runs[i], self.runs[i + 1]);
                let from = if i == 0 { self.head } else { self.runs[i - 1].to + 1 };
                let merged = Run { to: b.to, start_ms: a.start_ms, end_ms: b.end_ms };
                // The worst of the two inner ends, off by what the merged run says of them.
                let off = |place: u64, truth: u64| {
                    let said = merged.at(from, place) as f64;
                    (said - truth as f64).abs() / (truth.saturating_sub(now_ms).max(tick_ms) as f64)
                };
                let worst = off(a.to, a.end_ms).max(off(a.to + 1, b.start_ms));
                if worst < best.0 {
                    best = (worst, i);
                }
            }
            let i = best.1;
            let b = self.runs.remove(i + 1);
            self.runs[i].to = b.to;
            self.runs[i].end_ms = b.end_ms;
        }
    }

    /// When `place` is likely to be let in; `None` past the forecast.
    pub fn at(&self, place: u64) -> Option<u64> {
        let mut from = self.head;
        for run in &self.runs {
            if place <= run.to {
                return Some(run.at(from, place.max(from)));
            }
            from = run.to + 1;
        }
        None
    }

    /// The last place the forecast covers and when it is let in.
    pub fn last(&self) -> Option<(u64, u64)> {
        self.runs.last().map(|r| (r.to, r.end_ms))
    }

    /// The forecast as the room's stats keep it: `head|cap_bound|to:start:end,...`.
    pub fn to_field(&self) -> String {
        let runs: Vec<String> = self.runs.iter().map(|r| format!("{}:{}:{}", r.to, r.start_ms, r.end_ms)).collect();
        format!("{}|{}|{}", self.head, u8::from(self.cap_bound), runs.join(","))
    }

    /// Reads [`Forecast::to_field`]'s text; `None` if it is not one.
    pub fn parse(text: &str) -> Option<Forecast> {
        let mut parts = text.split('|');
        let head = parts.next()?.parse().ok()?;
        let cap_bound = parts.next()? == "1";
        let runs = parts.next()?;
        let runs = if runs.is_empty() {
            Vec::new()
        } else {
            runs.split(',')
                .map(|run| {
                    let mut n = run.split(':').map(|v| v.parse::<u64>().ok());
                    Some(Run { to: n.next()??, start_ms: n.next()??, end_ms: n.next()?? })
                })
                .collect::<Option<Vec<_>>>()?
        };
        Some(Forecast { head, runs, cap_bound })
    }
}

impl Run {
    /// When `place` of this run, which starts at place `from`, is let in.
    fn at(&self, from: u64, place: u64) -> u64 {
        if self.to <= from {
            return self.end_ms;
        }
        let share = (place.saturating_sub(from)) as f64 / (self.to - from) as f64;
        self.start_ms + ((self.end_ms - self.start_ms) as f64 * share.min(1.0)).round() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_000_000;

    fn outlook() -> Outlook {
        Outlook {
            now_ms: NOW,
            tick_ms: 1_000,
            hold_ms: 20_000,
            head_place: 101,
            waiting: 1_000,
            per_tick: 50.0,
            cap_room: 10_000.0,
            seat_room: 0.0,
            choosing: 0.0,
            overbooking: 1.5,
            per_fan: 1.0,
            hold_delay_ms: 0,
            holds: HoldOutlook::default(),
            idle: IdleOutlook::default(),
        }
    }

    #[test]
    fn fans_gone_give_their_unit_back_when_they_idle_out_and_fans_not_yet_there_as_many_do() {
        // 4 fans seen and gone idle out in 30 s, 10 not seen since their admission in 40 s, of
        // whom a fifth never come; the 8 who will hold take their 1.5 seats a fan soon: the room's
        // 4 units are theirs.
        let idle = IdleOutlook { gone_ms: vec![NOW + 30_000; 4], unseen_ms: vec![NOW + 40_000; 10], no_show_share: 0.2 };
        let holds = HoldOutlook { sold: 1_000_000_000, ..Default::default() };
        let f = Forecast::new(&Outlook { seat_room: 4.0, choosing: 8.0, idle, holds, ..outlook() });
        // The four gone let four in; the two expected never to come give back what those four
        // take beyond their unit each: nobody more.
        assert_eq!(f.runs, vec![Run { to: 104, start_ms: NOW + 30_000, end_ms: NOW + 30_000 }], "{f:?}");
    }

    #[test]
    fn with_seats_to_spare_the_line_moves_at_its_pace() {
        let f = Forecast::new(&Outlook { seat_room: 1e9, ..outlook() });
        assert_eq!(f.runs, vec![Run { to: 1_100, start_ms: NOW + 1_000, end_ms: NOW + 20_000 }]);
        assert_eq!(f.at(101), Some(NOW + 1_000));
        assert_eq!(f.at(1_100), Some(NOW + 20_000));
        assert_eq!(f.at(1_101), None, "nobody waits there");
    }

    #[test]
    fn a_bound_line_is_let_in_when_the_holds_ahead_lapse() {
        // 10 seats held by fans who are past every paid hold's time lapse in 8 s: 15 fans (10 x
        // 1.5) come in at once, then the line waits for their holds to lapse in turn.
        let mut holds = HoldOutlook { lapsed: 80, sold: 20, ..Default::default() };
        holds.paid_in.counts[2] = 20; // every paid hold was paid within 2-5 s
        holds.expiries_ms = vec![NOW + 8_000; 10];
        let o = Outlook { holds, ..outlook() };
        let share = o.holds.lapse_share(NOW, o.hold_ms);
        assert!((o.holds.lapse_chance(share, 12_000) - 1.0).abs() < 1e-9, "older than any paid hold");
        let f = Forecast::new(&o);
        assert_eq!(f.runs[0], Run { to: 115, start_ms: NOW + 8_000, end_ms: NOW + 8_000 });
        assert_eq!(f.at(101), Some(NOW + 8_000));
        assert_eq!(f.at(115), Some(NOW + 8_000));
        // Their holds lapse a hold later at the soonest.
        assert!(f.at(116).is_none_or(|at| at >= NOW + 28_000), "{f:?}");
    }

    #[test]
    fn a_young_hold_lapses_with_the_share_of_holds_that_lapse() {
        let mut holds = HoldOutlook { lapsed: 25, sold: 75, ..Default::default() };
        holds.paid_in.counts[4] = 75; // paid within 10-30 s
        let share = holds.lapse_share(NOW, 60_000);
        assert!((share - (25.0 + 10.0) / 120.0).abs() < 1e-9, "no live hold: the ended ones' share");
        assert!((holds.lapse_chance(share, 0) - share).abs() < 1e-9, "no paid hold had been paid yet");
        assert!((holds.unpaid_at(20_000) - 0.5).abs() < 1e-9);
        assert!(holds.lapse_chance(share, 20_000) > share && holds.lapse_chance(share, 20_000) < 1.0);
        assert_eq!(holds.lapse_chance(share, 35_000), 1.0);
        assert_eq!(HoldOutlook::default().lapse_share(NOW, 60_000), LAPSE_SHARE_PRIOR);
    }

    #[test]
    fn holds_unpaid_longer_than_paid_ones_take_count_as_lapsing_before_they_lapse() {
        // Holds of 2 min, 40 s into the sale: 300 seats paid within 5-10 s, none lapsed yet, and
        // 100 seats held 35 s unpaid. The ended holds alone say 3 % lapse; a quarter will.
        let mut holds = HoldOutlook { sold: 300, expiries_ms: vec![NOW + 85_000; 100], ..Default::default() };
        holds.paid_in.counts[3] = 300;
        assert!(holds.ended_lapse_share() < 0.04);
        let share = holds.lapse_share(NOW, 120_000);
        assert!((share - (100.0 + 10.0) / 420.0).abs() < 1e-6, "{share}");
        assert!(holds.seats_to_sell(NOW, 120_000) < 1e-9, "none of them will be paid");
        // Had they just been held, they would sell as holds do.
        holds.expiries_ms = vec![NOW + 120_000; 100];
        let share = holds.lapse_share(NOW, 120_000);
        assert!((share - holds.ended_lapse_share()).abs() < 1e-6, "young holds lapse at the share: {share}");
        assert!((holds.seats_to_sell(NOW, 120_000) - 100.0 * (1.0 - share)).abs() < 1e-6);
    }

    #[test]
    fn the_lapse_share_is_the_one_the_holds_give_at_it() {
        // Early in a sale: 50 seats paid within 5-10 s, 500 holds of 0-20 s, 300 more not read
        // (younger). Repeating from the ended holds' share settles slowly here; the share found
        // must give itself back.
        let mut holds = HoldOutlook { sold: 50, unread: 300, ..Default::default() };
        holds.paid_in.counts[3] = 50;
        holds.expiries_ms = (0..500).map(|i| NOW + 120_000 - i * 40).collect();
        let share = holds.lapse_share(NOW, 120_000);
        let lapsing: f64 =
            holds.expiries_ms.iter().map(|&e| holds.lapse_chance(share, age_ms(NOW, 120_000, e))).sum::<f64>() + 300.0 * share;
        let given = (lapsing + LAPSE_SHARE_PRIOR * LAPSE_PRIOR_SEATS) / (50.0 + 800.0 + LAPSE_PRIOR_SEATS);
        assert!((given - share).abs() < 1e-6, "{share} gives {given}");
        assert!(share > holds.ended_lapse_share() + 0.1, "{share}");
        let to_sell = holds.seats_to_sell(NOW, 120_000);
        assert!((to_sell - (800.0 - lapsing)).abs() < 1e-6, "{to_sell}");
    }

    #[test]
    fn choosing_fans_take_their_seats_before_the_line_moves() {
        // 30 units of room, but 20 fans choosing will each take about 1.5 x 2 - 1 more: nobody else.
        let holds = HoldOutlook { sold: 1_000, ..Default::default() };
        let o = Outlook { seat_room: 30.0, choosing: 20.0, per_fan: 2.0, holds, ..outlook() };
        let f = Forecast::new(&o);
        assert!(f.runs.is_empty(), "{f:?}");
        let f = Forecast::new(&Outlook { choosing: 0.0, ..o });
        assert_eq!(f.runs[0], Run { to: 130, start_ms: NOW + 1_000, end_ms: NOW + 1_000 });
    }

    #[test]
    fn fans_let_in_count_one_unit_until_they_hold() {
        // 30 units; each fan takes 1.5 x 2 = 3 once it holds, 5 s after its admission: the tick
        // lets 10 in a tick for three ticks (one unit each), and nobody more once they hold.
        let holds = HoldOutlook { sold: 1_000_000_000, ..Default::default() };
        let o = Outlook { seat_room: 30.0, per_tick: 10.0, per_fan: 2.0, hold_delay_ms: 5_000, holds, ..outlook() };
        let f = Forecast::new(&o);
        assert_eq!(f.runs, vec![Run { to: 130, start_ms: NOW + 1_000, end_ms: NOW + 3_000 }], "{f:?}");
        // Held at once, the 30 units were 10 fans'.
        assert_eq!(Forecast::new(&Outlook { hold_delay_ms: 0, ..o.clone() }).last(), Some((110, NOW + 1_000)));
        // 2.5 fans choosing now (one expected never to come counts half), halfway there, hold in
        // 2.5 s and take 5 units more: the third tick lets in 4 of the 5 units left (a hair less
        // for the holds expected to lapse).
        let f = Forecast::new(&Outlook { choosing: 2.5, ..o });
        let runs =
            vec![Run { to: 120, start_ms: NOW + 1_000, end_ms: NOW + 2_000 }, Run { to: 124, start_ms: NOW + 3_000, end_ms: NOW + 3_000 }];
        assert_eq!(f.runs, runs);
    }

    #[test]
    fn the_hold_delay_is_the_booking_path_less_the_time_to_pay() {
        let path = SecondsHistogram::from_fields("path:", [("path:10", 10)]); // 7.5 s each
        let paid = SecondsHistogram::from_fields("paidIn:", [("paidIn:2", 10)]); // 1.5 s each
        assert_eq!(hold_delay_ms(&path, &paid), 6_000);
        assert_eq!(hold_delay_ms(&path, &SecondsHistogram::default()), 7_500);
        assert_eq!(hold_delay_ms(&SecondsHistogram::default(), &paid), 0, "nobody bought yet");
        assert_eq!(hold_delay_ms(&paid, &path), 0, "never negative");
    }

    #[test]
    fn where_the_active_cap_binds_the_forecast_says_so() {
        let f = Forecast::new(&Outlook { seat_room: 1e9, cap_room: 120.0, ..outlook() });
        assert_eq!(f.last(), Some((220, NOW + 3_000)));
        assert!(f.cap_bound);
    }

    #[test]
    fn a_long_forecast_keeps_its_nearest_runs_exact() {
        // A seat back every second for a minute: a fan in every other tick, more runs than kept.
        let mut holds = HoldOutlook { lapsed: 500, sold: 500, ..Default::default() };
        holds.paid_in.counts[1] = 500; // within 1-2 s
        holds.expiries_ms = (1..=60).map(|i| NOW + i * 1_000).collect();
        let f = Forecast::new(&Outlook { holds, ..outlook() });
        assert_eq!(f.runs.len(), MAX_RUNS);
        assert_eq!(f.at(101), Some(NOW + 1_000));
        assert!(f.at(102).unwrap() >= NOW + 3_000);
        assert_eq!(Forecast::parse(&f.to_field()), Some(f.clone()));
        assert_eq!(Forecast::parse("7|0|"), Some(Forecast { head: 7, runs: vec![], cap_bound: false }));
        assert_eq!(Forecast::parse("7|0|1:x:2"), None);
    }
}
