//! Key layout: one method per key. `P` is `KEY_PREFIX`; the part in braces is the hash tag, so
//! all keys of one tag live in one cluster slot and one script may touch them together.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `P:{r:C}:seq` | string | last ticket number issued in concert C's waiting room |
//! | `P:{r:C}:waiting` | zset | ticket → order of admission (lottery key < 1 for the pre-queue, then the ticket number) |
//! | `P:{r:C}:fans` | string | 8 bytes per ticket number T at offset 8T: when it joined, when it was last seen (two big-endian u32 epoch seconds, `BITFIELD … u32 #2T`, `#2T+1`) |
//! | `P:{r:C}:active` | zset | admitted ticket → expiry (ms) |
//! | `P:{r:C}:holder` | hash | the user's compact id (`UserId::compact`) → the user's latest ticket; a token is honoured only for that ticket |
//! | `P:{r:C}:stats` | hash | last tick number, observed admission rate, admitted and dropped totals, what the line can count on (pace, headroom, the rate while bound, seats per admitted fan, seats left for it with holds paid or lapsed), the queue-wait histogram (`wait:<seconds>`) |
//! | `P:{r:C}:settings` | hash | sale times (ms), operator settings (admitPerTick, activeCap, overbooking, paused), opened, soldOut; the lottery's seed (secret until the draw), commitment, `lotteryTickets` (the pre-queue's last ticket) and `lotteryDrawnAt` |
//! | `P:{r:C}:draw` | string | the pre-queue's drawn order, 4 bytes per ticket number (big-endian), first admitted first |
//! | `P:{r:C}:changes` | list | the last 50 operator changes, newest first, with old and new values |
//! | `P:{rl:ADDRESS}:ACTION` | string | requests of one client address in the current minute (expires with it) |
//! | `P:{rooms}:live` | set | concerts whose room has fans waiting or active (what `activate-queue` ticks) |
//! | `P:{u:ID}:profile` | hash | name, balance, createdAt |
//! | `P:{u:ID}:idempotency` | hash | `charge:KEY` → `amount|balance`, `pay:KEY` → reservationId |
//! | `P:{u:ID}:payments` | hash | reservationId → payment JSON, or `VOID` |
//! | `P:{u:ID}:reservations` | hash | reservationId → scheduleId |
//! | `P:{u:ID}:request:R` | string | the result of charge request R, for 10 minutes: a resent command charges once |
//! | `P:{u:ID}:claims:C` | zset | the user's holds (→ hold expiry) and purchases (→ 9e15) of concert C, for the per-fan cap |
//! | `P:{catalog}:concerts` | hash | concertId → concert JSON |
//! | `P:{s:ID}:meta` | hash | concertId, price, seatCount, startsAt, sold |
//! | `P:{s:ID}:seats` | hash | seat number → a `SeatEntry` (`domain/models.rs`) |
//! | `P:{s:ID}:states` | string | 8 bytes per seat number N at offset 8N: the seat's `SeatState` (`domain/models.rs`), written with its `seats` entry; what a seat listing reads, one `GETRANGE` a page |
//! | `P:{s:ID}:reservations` | hash | reservationId → reservation JSON |
//! | `P:{s:ID}:holds` | zset | reservationId of a live hold → expiry (ms) |
//! | `P:{s:ID}:holders` | hash | userId → how many holds the user has on this schedule |
//! | `P:{s:ID}:finished` | zset | reservationId of a hold that ended unpaid → when; its record goes after `RETENTION_SECONDS` |
//! | `P:{work}:holding` | set | schedules with live holds: what the sweeper visits between its full rounds |
//! | `P:{work}:pending` | set | schedules with events waiting in their outbox: what the relay visits between its full rounds |
//! | `P:{probe}` | string | never written: what [`crate::store::Store::probe`] reads, one `GET`, the cheapest call a request can make |
//! | `P:{s:ID}:refunds` | hash | reservationId → a debited payment whose seat was lost (only lost data does that), for operators to refund |
//! | `P:{s:ID}:minutes` | hash | epoch minute → seats sold in it (the operator's report) |
//! | `P:{s:ID}:outbox` | stream | PaymentCompleted events not yet acknowledged by Kafka |
//! | `P:{s:ID}:ledger` | hash | soldSeats, revenue, as counted from the events |
//! | `P:{s:ID}:ledger-events` | set | event ids already counted |
//!
//! Each concert's waiting room is one tag on purpose: a single order is one structure, and it costs
//! O(log n) per operation, so one slot serves millions of waiting tickets; different concerts'
//! rooms spread over the cluster. A waiting fan costs one entry of `waiting` and one of `holder`
//! (the 22-character compact id, not the 32-digit one) and 8 bytes of `fans`: about 190 bytes at
//! a million (`cargo run --release -p local-stack --bin bench-queue`).

use crate::domain::ids::{ConcertId, ScheduleId, UserId};

#[derive(Clone, Debug)]
pub struct Keys {
    prefix: String,
}

macro_rules! keys {
    ($($(#[$doc:meta])* $method:ident($($arg:ident: $ty:ty),*) => [$($part:expr),+];)*) => {
        impl Keys {
            $(
                $(#[$doc])*
                pub fn $method(&self $(, $arg: $ty)*) -> String {
                    self.key(&[$(AsRef::<str>::as_ref(&$part)),+])
                }
            )*
        }
    };
}

keys! {
    room_seq(concert: &ConcertId) => ["{r:", concert, "}:seq"];
    room_waiting(concert: &ConcertId) => ["{r:", concert, "}:waiting"];
    room_fans(concert: &ConcertId) => ["{r:", concert, "}:fans"];
    room_active(concert: &ConcertId) => ["{r:", concert, "}:active"];
    room_holder(concert: &ConcertId) => ["{r:", concert, "}:holder"];
    room_stats(concert: &ConcertId) => ["{r:", concert, "}:stats"];
    room_settings(concert: &ConcertId) => ["{r:", concert, "}:settings"];
    room_changes(concert: &ConcertId) => ["{r:", concert, "}:changes"];
    room_seen(concert: &ConcertId) => ["{r:", concert, "}:seen"];
    room_decisions(concert: &ConcertId) => ["{r:", concert, "}:decisions"];
    /// The refusals (4xx and 5xx) answered to fans of the room, by status and code (the report).
    room_errors(concert: &ConcertId) => ["{r:", concert, "}:errors"];
    /// The challenge salts that took a place, scored by when each expires.
    room_solutions(concert: &ConcertId) => ["{r:", concert, "}:solutions"];
    /// The room's presale codes, each bound to the account that redeemed it ('' before).
    room_codes(concert: &ConcertId) => ["{r:", concert, "}:codes"];
    /// The pre-queue's drawn order: 4 bytes per ticket number, big-endian, first admitted first.
    room_draw(concert: &ConcertId) => ["{r:", concert, "}:draw"];
    rooms_live() => ["{rooms}:live"];
    rate_limit(address: &str, action: &str) => ["{rl:", address, "}:", action];
    user_claims(user: &UserId, concert: &ConcertId) => ["{u:", user, "}:claims:", concert];
    user_request(user: &UserId, request: &str) => ["{u:", user, "}:request:", request];
    user_profile(user: &UserId) => ["{u:", user, "}:profile"];
    user_idempotency(user: &UserId) => ["{u:", user, "}:idempotency"];
    user_payments(user: &UserId) => ["{u:", user, "}:payments"];
    user_reservations(user: &UserId) => ["{u:", user, "}:reservations"];
    catalog() => ["{catalog}:concerts"];
    schedule_meta(schedule: &ScheduleId) => ["{s:", schedule, "}:meta"];
    schedule_seats(schedule: &ScheduleId) => ["{s:", schedule, "}:seats"];
    schedule_states(schedule: &ScheduleId) => ["{s:", schedule, "}:states"];
    schedule_reservations(schedule: &ScheduleId) => ["{s:", schedule, "}:reservations"];
    schedule_holds(schedule: &ScheduleId) => ["{s:", schedule, "}:holds"];
    schedule_holders(schedule: &ScheduleId) => ["{s:", schedule, "}:holders"];
    schedule_refunds(schedule: &ScheduleId) => ["{s:", schedule, "}:refunds"];
    /// Seats sold per minute: epoch minute → seats (the operator's report).
    schedule_minutes(schedule: &ScheduleId) => ["{s:", schedule, "}:minutes"];
    schedule_finished(schedule: &ScheduleId) => ["{s:", schedule, "}:finished"];
    /// The fans who held a seat, and who bought one (HyperLogLogs, for the operator's report).
    schedule_held_by(schedule: &ScheduleId) => ["{s:", schedule, "}:held-by"];
    schedule_bought_by(schedule: &ScheduleId) => ["{s:", schedule, "}:bought-by"];
    work_holding() => ["{work}:holding"];
    work_pending() => ["{work}:pending"];
    probe() => ["{probe}"];
    schedule_outbox(schedule: &ScheduleId) => ["{s:", schedule, "}:outbox"];
    schedule_ledger(schedule: &ScheduleId) => ["{s:", schedule, "}:ledger"];
    schedule_ledger_events(schedule: &ScheduleId) => ["{s:", schedule, "}:ledger-events"];
}

impl Keys {
    /// The booking path's health of one room in one second (epoch seconds): a small hash that
    /// expires by itself (see `store/health.rs`).
    pub fn room_health(&self, concert: &ConcertId, second: u64) -> String {
        self.key(&["{r:", concert.as_str(), "}:health:", itoa::Buffer::new().format(second)])
    }

    /// `P:` and the parts, in a string allocated once at its final size. Every request builds
    /// its keys (a token status six), and `format!`'s machinery cost more than the rest of the
    /// key handling (callgrind, `k6/RESULTS.md`).
    fn key(&self, parts: &[&str]) -> String {
        let mut key = String::with_capacity(self.prefix.len() + 1 + parts.iter().map(|p| p.len()).sum::<usize>());
        key.push_str(&self.prefix);
        key.push(':');
        parts.iter().for_each(|part| key.push_str(part));
        key
    }

    /// The layout under `prefix`; `None` for an empty prefix or one with braces (they would
    /// break the hash tags).
    pub fn new(prefix: &str) -> Option<Self> {
        if prefix.is_empty() || prefix.contains(['{', '}']) {
            return None;
        }
        Some(Keys { prefix: prefix.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis Cluster hashes only the part between the first `{` and the next `}`.
    fn tag(key: &str) -> &str {
        let start = key.find('{').unwrap() + 1;
        let end = start + key[start..].find('}').unwrap();
        &key[start..end]
    }

    #[test]
    fn keys_of_one_script_share_a_tag() {
        let keys = Keys::new("tk").unwrap();
        let s = ScheduleId::random();
        let u = UserId::random();
        let sched = [
            keys.schedule_meta(&s),
            keys.schedule_seats(&s),
            keys.schedule_states(&s),
            keys.schedule_reservations(&s),
            keys.schedule_holds(&s),
            keys.schedule_outbox(&s),
            keys.schedule_ledger(&s),
            keys.schedule_ledger_events(&s),
            keys.schedule_held_by(&s),
            keys.schedule_bought_by(&s),
        ];
        assert!(sched.iter().all(|k| tag(k) == tag(&sched[0])));
        assert_eq!(sched[0], format!("tk:{{s:{s}}}:meta"));
        let c = ConcertId::random();
        let user = [
            keys.user_profile(&u),
            keys.user_payments(&u),
            keys.user_idempotency(&u),
            keys.user_reservations(&u),
            keys.user_claims(&u, &c),
        ];
        assert!(user.iter().all(|k| tag(k) == tag(&user[0])));
        let room = [
            keys.room_seq(&c),
            keys.room_waiting(&c),
            keys.room_fans(&c),
            keys.room_active(&c),
            keys.room_holder(&c),
            keys.room_stats(&c),
            keys.room_settings(&c),
            keys.room_changes(&c),
            keys.room_seen(&c),
            keys.room_decisions(&c),
            keys.room_errors(&c),
            keys.room_solutions(&c),
            keys.room_codes(&c),
            keys.room_draw(&c),
            keys.room_health(&c, 1_800_000_000),
        ];
        assert!(room.iter().all(|k| tag(k) == format!("r:{c}")));
        assert_ne!(tag(&room[0]), tag(&keys.room_seq(&ConcertId::random())), "rooms spread over the cluster");
        assert_ne!(tag(&sched[0]), tag(&user[0]));
    }

    #[test]
    fn a_key_is_the_prefix_and_its_parts() {
        let keys = Keys::new("tk").unwrap();
        let (u, c) = (UserId::random(), ConcertId::random());
        assert_eq!(keys.user_claims(&u, &c), format!("tk:{{u:{u}}}:claims:{c}"));
        assert_eq!(keys.room_waiting(&c), format!("tk:{{r:{c}}}:waiting"));
        assert_eq!(keys.rate_limit("10.0.0.1", "join"), "tk:{rl:10.0.0.1}:join");
        assert_eq!(keys.probe(), "tk:{probe}");
    }

    #[test]
    fn prefixes_cannot_break_the_tag() {
        assert!(Keys::new("a{b").is_none());
        assert!(Keys::new("").is_none());
    }
}
