//! Pure domain code: no I/O and no HTTP, everything unit-tested. Invalid input is a
//! [`ValidationError`] naming the [`Field`]; `error.rs` decides what a client sees of it.
//!
//! - [`ids`]: random identifiers and their `parse` constructors.
//! - [`inputs`]: validated request values (names, amounts, seat numbers, seat pages, idempotency
//!   keys).
//! - [`admin`]: what operators send (a new concert and its sale window, a room's new settings).
//! - [`tokens`]: HMAC-signed access tokens, queue tokens and challenges.
//! - [`presale`]: presale codes, one account each, and the operator's request to load or generate them.
//! - [`challenge`]: the proof of work at a room's door: checking a solution, and the difficulty
//!   that follows the pressure on the room.
//! - [`lottery`]: the pre-queue's draw at the opening, from a committed seed, that anyone can
//!   recompute.
//! - [`queue`]: queue positions, the ETA from the observed admission rate, and `Retry-After`.
//! - [`forecast`]: when each place in a bound line is likely to be let in, from the live holds
//!   and when they lapse.
//! - [`report`]: the operator's report after a sale: the queue-wait histogram.
//! - [`autopilot`]: the booking path's health histogram and the controller that sets a room's
//!   admission from it.
//! - [`models`]: concerts, seats, reservations and payments as the scripts store them, including
//!   the seat entry encoding the Lua scripts share with Rust (`crate::api` shapes them for clients).
//! - [`events`]: the events published to Kafka.

pub mod admin;
pub mod autopilot;
pub mod challenge;
pub mod events;
pub mod forecast;
pub mod ids;
pub mod inputs;
pub mod lottery;
pub mod models;
pub mod presale;
pub mod queue;
pub mod report;
pub mod tokens;

/// Milliseconds since the Unix epoch; every deadline in the store is in this unit.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_millis() as u64
}

/// The input a rule was about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Name,
    Amount,
    Price,
    Seat,
    Id,
    IdempotencyKey,
    Title,
    Venue,
    StartsAt,
    SeatCount,
    Schedules,
    SaleWindow,
    RoomSettings,
    Page,
    PresaleCode,
    PresaleCodes,
}

/// A value that breaks the rule of its field; `message` states the rule for people.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field:?}: {message}")]
pub struct ValidationError {
    pub field: Field,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: Field, message: impl Into<String>) -> Self {
        ValidationError { field, message: message.into() }
    }
}
