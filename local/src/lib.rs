//! Running the system on one machine.
//!
//! - [`kafka_trigger`]: the stand-in for Lambda's Kafka event source: consumes the payments topic
//!   with a consumer group, hands batches in the Lambda payload shape to the same handler code
//!   as `on-payment-completed`, and commits offsets after success (at-least-once).
//!
//! Binaries: `seed` (demo concerts), `kafka-trigger` (the runner above, as a process).

pub mod kafka_trigger;
