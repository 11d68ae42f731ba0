//! Key layout. `P` is `KEY_PREFIX`; the part in braces is the hash tag, so all keys of one tag
//! live in one cluster slot and one script may touch them together.
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
//! | `P:{s:ID}:seats` | hash | seat number → `H|expiresAtMs|reservationId` or `S|0|reservationId` |
//! | `P:{s:ID}:reservations` | hash | reservationId → reservation JSON |
//! | `P:{s:ID}:holds` | zset | reservationId of a live hold → expiry (ms) |
//! | `P:{s:ID}:outbox` | stream | PaymentCompleted events not yet acknowledged by Kafka |
//! | `P:{s:ID}:ledger` | hash | soldSeats, revenue, as counted from the events |
//! | `P:{s:ID}:ledger-events` | set | event ids already counted |
//!
//! The waiting room is one tag on purpose: a single FIFO order is one structure. It costs O(log n)
//! per operation, so one slot serves millions of waiting tickets.

use crate::domain::ids::{ScheduleId, UserId};
use crate::error::ApiError;

#[derive(Clone, Debug)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Result<Self, ApiError> {
        if prefix.is_empty() || prefix.contains(['{', '}']) {
            return Err(ApiError::Internal("KEY_PREFIX must be non-empty and free of braces".into()));
        }
        Ok(Keys { prefix: prefix.to_owned() })
    }

    pub fn queue(&self, name: &str) -> String {
        format!("{}:{{q}}:{name}", self.prefix)
    }

    pub fn user(&self, user: &UserId, name: &str) -> String {
        format!("{}:{{u:{user}}}:{name}", self.prefix)
    }

    pub fn schedule(&self, schedule: &ScheduleId, name: &str) -> String {
        format!("{}:{{s:{schedule}}}:{name}", self.prefix)
    }

    pub fn schedule_by_id(&self, schedule: &str, name: &str) -> String {
        format!("{}:{{s:{schedule}}}:{name}", self.prefix)
    }

    pub fn catalog(&self) -> String {
        format!("{}:{{catalog}}:concerts", self.prefix)
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
        let sched: Vec<_> = ["meta", "seats", "reservations", "holds"].map(|n| keys.schedule(&s, n)).into();
        assert!(sched.iter().all(|k| tag(k) == tag(&sched[0])));
        let user: Vec<_> = ["profile", "payments", "idempotency", "reservations"].map(|n| keys.user(&u, n)).into();
        assert!(user.iter().all(|k| tag(k) == tag(&user[0])));
        assert_eq!(tag(&keys.queue("waiting")), tag(&keys.queue("active")));
        assert_ne!(tag(&sched[0]), tag(&user[0]));
    }

    #[test]
    fn prefixes_cannot_break_the_tag() {
        assert!(Keys::new("a{b").is_err());
        assert!(Keys::new("").is_err());
    }
}
