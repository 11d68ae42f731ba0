//! Everything the ticketing functions share: the domain, the Redis stores, configuration, errors,
//! the HTTP plumbing and the entry points. A function binary is a thin HTTP (or schedule) adapter
//! on top of this crate: its `main` is one call into [`entry`], its handler turns a request into
//! domain values, calls a store, and shapes the answer.
//!
//! - [`config`]: settings read once from environment variables at cold start, nested by concern,
//!   secrets redacted when printed.
//! - [`domain`]: identifiers, validated inputs and their [`domain::ValidationError`], signed
//!   tokens, the waiting-room arithmetic, models; pure code with no I/O and no HTTP.
//! - [`store`]: [`store::Store`], the only code that talks to Redis: one narrow store per
//!   aggregate (users, queue, catalog, booking, outbox), each owning its keys, Lua scripts and
//!   typed replies; `store/keys.rs` lists the key layout, `store/script.rs` runs scripts.
//! - [`error`]: every error code ([`error::ErrorCode`]) and [`ApiError`], rendered as RFC 9457
//!   problem+json; the one place validation and store errors become HTTP answers.
//! - [`app`]: [`App`], the clients and settings built once per process, and the caller checks
//!   (access token, queue token, operator key).
//! - [`api`]: every body the API answers with, built by handlers from the stores' domain data.
//! - [`http`]: what every HTTP handler does alike: headers, JSON bodies, responses.
//! - [`entry`]: the one-call `main` of every function.
//! - [`lifecycle`]: what the process tells the Lambda Runtime API besides answers (a failed start)
//!   and graceful shutdown, on runtimes with or without the Extensions API.
//! - [`schedule`]: the tick loop that lets a once-a-minute schedule act every second.
//! - [`secrets`]: secrets read at cold start through the AWS Parameters and Secrets extension.
//! - `kafka` (feature `kafka`): the Kafka producer that publishes payment events from the outbox
//!   (the events' schema is [`domain::events`]).
//! - [`startup`]: [`startup::StartupError`], why a process could not start.
//! - [`telemetry`]: tracing setup (JSON logs on Lambda, human-readable locally).
//! - [`metrics`]: CloudWatch Embedded Metric Format lines (per route, per room, the tick, the
//!   outbox, sales), written on Lambda for the template's dashboard and alarms.
//! - `testing` (feature `testing`): an [`App`] on a random key prefix, for integration tests,
//!   with the Redis and Kafka they need started on demand.

pub mod api;
pub mod app;
pub mod config;
pub mod domain;
pub mod entry;
pub mod error;
pub mod http;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod lifecycle;
pub mod metrics;
pub mod schedule;
pub mod secrets;
pub mod startup;
pub mod store;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;

pub use app::App;
pub use config::Config;
pub use error::{ApiError, ErrorCode};
