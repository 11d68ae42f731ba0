//! Running the system on one machine.
//!
//! - [`client`]: a minimal HTTP client that sends from a chosen loopback address (tests, bots).
//! - [`gateway`]: every function's route on one port, called in-process as API Gateway would (for
//!   curl, k6 and the browser).
//! - [`runners`]: what the cloud runs around the functions: the schedules, back to back, and
//!   Lambda's Kafka event source.
//! - [`kafka_trigger`]: the Kafka event source itself: consumes the payments topic with a consumer
//!   group, hands batches in the Lambda payload shape to `on-payment-completed`, and commits
//!   offsets after success (at-least-once).
//! - [`runtime_api`]: a Lambda Runtime API with nothing else (no Extensions API), to run the
//!   functions' real binaries as a Runtime-API-only platform does (`tests/runtime_api_only.rs`).
//! - [`stats`]: the gateway's own latency per route (`GET /__stats`), beside what k6 sees.
//! - [`template`]: what `template.yaml` deploys, read by the gateway and the layout tests.
//!
//! Binaries: `gateway`, `kafka-trigger` (the event source alone, for `local/watch`), `seed` (demo
//! data).

pub mod client;
pub mod gateway;
pub mod kafka_trigger;
pub mod runners;
pub mod runtime_api;
pub mod stats;
pub mod template;
