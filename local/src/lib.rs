//! Running the system on one machine.
//!
//! - [`kafka_trigger`]: the stand-in for Lambda's Kafka event source: consumes the payments topic
//!   with a consumer group, hands batches in the Lambda payload shape to the same handler code
//!   as `on-payment-completed`, and commits offsets after success (at-least-once).
//!
//! - [`gateway`]: every function on one port, called in-process, with the schedules and the Kafka
//!   event source running beside them (for curl and k6).
//! - [`template`]: what `template.yaml` deploys, read by the gateway and the layout tests.
//!
//! Binaries: `seed` (demo concerts), `kafka-trigger` (the runner above, as a process), `gateway`.

pub mod gateway;
pub mod kafka_trigger;
pub mod template;
