//! Key layout: one method per key. `P` is `KEY_PREFIX`; the part in braces is the hash tag, so
//! all keys of one tag live in one cluster slot and one script may touch them together.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `P:{q}:seq` | string | last queue ticket number issued |
//! | `P:{q}:waiting` | zset | ticket → ticket number (FIFO order) |
//! | `P:{q}:seen` | zset | waiting ticket → last poll (ms) |
//! | `P:{q}:active` | zset | admitted ticket → expiry (ms) |
//! | `P:{q}:holder` | hash | userId → the user's latest ticket |
//! | `P:{q}:stats` | hash | last tick number, observed admission rate, admitted total |
//! | `P:{u:ID}:profile` | hash | name, balance, createdAt |
//! | `P:{u:ID}:idempotency` | hash | `charge:KEY` → `amount|balance`, `pay:KEY` → reservationId |
//! | `P:{u:ID}:payments` | hash | reservationId → payment JSON, or `VOID` |
//! | `P:{u:ID}:reservations` | hash | reservationId → scheduleId |
//! | `P:{catalog}:concerts` | hash | concertId → concert JSON |
//! | `P:{s:ID}:meta` | hash | concertId, price, seatCount, startsAt |
//! | `P:{s:ID}:seats` | hash | seat number → a `SeatEntry` (`domain/models.rs`) |
//! | `P:{s:ID}:reservations` | hash | reservationId → reservation JSON |
//! | `P:{s:ID}:holds` | zset | reservationId of a live hold → expiry (ms) |
//! | `P:{s:ID}:outbox` | stream | PaymentCompleted events not yet acknowledged by Kafka |
//! | `P:{s:ID}:ledger` | hash | soldSeats, revenue, as counted from the events |
//! | `P:{s:ID}:ledger-events` | set | event ids already counted |
//!
//! The waiting room is one tag on purpose: a single FIFO order is one structure. It costs O(log n)
//! per operation, so one slot serves millions of waiting tickets.

use crate::domain::ids::{ScheduleId, UserId};
use crate::store::StoreError;

#[derive(Clone, Debug)]
pub struct Keys {
    prefix: String,
}

macro_rules! keys {
    ($($(#[$doc:meta])* $method:ident($($arg:ident: $ty:ty),*) => $fmt:literal;)*) => {
        impl Keys {
            $(
                $(#[$doc])*
                pub fn $method(&self $(, $arg: $ty)*) -> String {
                    format!(concat!("{}:", $fmt), self.prefix $(, $arg)*)
                }
            )*
        }
    };
}

keys! {
    queue_seq() => "{{q}}:seq";
    queue_waiting() => "{{q}}:waiting";
    queue_seen() => "{{q}}:seen";
    queue_active() => "{{q}}:active";
    queue_holder() => "{{q}}:holder";
    queue_stats() => "{{q}}:stats";
    user_profile(user: &UserId) => "{{u:{}}}:profile";
    user_idempotency(user: &UserId) => "{{u:{}}}:idempotency";
    user_payments(user: &UserId) => "{{u:{}}}:payments";
    user_reservations(user: &UserId) => "{{u:{}}}:reservations";
    catalog() => "{{catalog}}:concerts";
    schedule_meta(schedule: &ScheduleId) => "{{s:{}}}:meta";
    schedule_seats(schedule: &ScheduleId) => "{{s:{}}}:seats";
    schedule_reservations(schedule: &ScheduleId) => "{{s:{}}}:reservations";
    schedule_holds(schedule: &ScheduleId) => "{{s:{}}}:holds";
    schedule_outbox(schedule: &ScheduleId) => "{{s:{}}}:outbox";
    schedule_ledger(schedule: &ScheduleId) => "{{s:{}}}:ledger";
    schedule_ledger_events(schedule: &ScheduleId) => "{{s:{}}}:ledger-events";
}

impl Keys {
    pub fn new(prefix: &str) -> Result<Self, StoreError> {
        if prefix.is_empty() || prefix.contains(['{', '}']) {
            return Err(StoreError::Unexpected("KEY_PREFIX must be non-empty and free of braces".into()));
        }
        Ok(Keys { prefix: prefix.to_owned() })
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
            keys.schedule_reservations(&s),
            keys.schedule_holds(&s),
            keys.schedule_outbox(&s),
            keys.schedule_ledger(&s),
            keys.schedule_ledger_events(&s),
        ];
        assert!(sched.iter().all(|k| tag(k) == tag(&sched[0])));
        assert_eq!(sched[0], format!("tk:{{s:{s}}}:meta"));
        let user = [keys.user_profile(&u), keys.user_payments(&u), keys.user_idempotency(&u), keys.user_reservations(&u)];
        assert!(user.iter().all(|k| tag(k) == tag(&user[0])));
        let queue =
            [keys.queue_seq(), keys.queue_waiting(), keys.queue_seen(), keys.queue_active(), keys.queue_holder(), keys.queue_stats()];
        assert!(queue.iter().all(|k| tag(k) == "q"));
        assert_ne!(tag(&sched[0]), tag(&user[0]));
    }

    #[test]
    fn prefixes_cannot_break_the_tag() {
        assert!(Keys::new("a{b").is_err());
        assert!(Keys::new("").is_err());
    }
}
