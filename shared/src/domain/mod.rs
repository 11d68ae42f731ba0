//! Pure domain code: no I/O, everything unit-tested.
//!
//! - [`ids`]: random identifiers and their `parse` constructors.
//! - [`inputs`]: validated request values (names, amounts, seat numbers, idempotency keys).
//! - [`tokens`]: HMAC-signed access tokens and queue tokens.
//! - [`queue`]: queue statuses, the ETA from the observed admission rate, and `Retry-After`.
//! - [`models`]: what the API returns.
//! - [`events`]: the events published to Kafka.

pub mod events;
pub mod ids;
pub mod inputs;
pub mod models;
pub mod queue;
pub mod tokens;

/// Milliseconds since the Unix epoch; every deadline in the store is in this unit.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}
