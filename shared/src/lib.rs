//! Everything the ticketing functions share: the domain, the Redis store, configuration, errors and
//! the HTTP plumbing every handler needs. A function binary is a thin HTTP (or schedule) adapter on
//! top of this crate.
//!
//! - [`config`]: settings read once from environment variables at cold start.
//! - [`domain`]: identifiers, validated inputs, signed tokens and the waiting-room arithmetic; pure
//!   code with no I/O.
//! - [`store`]: [`store::RedisStore`], the only code that talks to Redis. Every state change is one
//!   Lua script over keys that share a `{hash tag}`; `store/keys.rs` lists the key layout.
//! - `events` (feature `kafka`): the Kafka producer that publishes payment events from the outbox.
//! - [`error`]: [`ApiError`], the one error type, rendered as RFC 9457 `application/problem+json`.
//! - [`http`]: what every HTTP handler does alike: bearer and queue tokens, JSON bodies, responses.
//! - [`app`]: [`App`], the clients and settings a function builds once per process.
//! - [`schedule`]: the tick loop that lets a once-a-minute schedule act every second.
//! - [`telemetry`]: tracing setup (JSON logs on Lambda, human-readable locally).
//! - `testing` (feature `testing`): an [`App`] on a random key prefix, for integration tests.

pub mod app;
pub mod config;
pub mod domain;
pub mod error;
#[cfg(feature = "kafka")]
pub mod events;
pub mod http;
pub mod schedule;
pub mod store;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use app::App;
pub use config::Config;
pub use error::ApiError;
