//! Events other systems consume. Each is JSON with a `schemaVersion`; a consumer rejects versions
//! it does not know instead of misreading them.

use serde::{Deserialize, Serialize};

use super::ids::ScheduleId;

/// The only version of [`PaymentCompleted`] so far.
pub const PAYMENT_COMPLETED_VERSION: u32 = 1;

/// A seat was paid for. Written to the schedule's outbox in the same atomic step that marks the
/// seat SOLD, then published to Kafka keyed by `scheduleId`, so one schedule's events stay in
/// order. `eventId` is unique per event: consumers deduplicate on it.
///
/// `settle_payment.lua` builds this JSON in the same atomic step that sells the seat; this struct
/// is the one definition of its fields, and `deny_unknown_fields` plus
/// `tests/script_contracts.rs` make the two fail loudly if they drift.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PaymentCompleted {
    pub schema_version: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub event_id: String,
    pub payment_id: String,
    pub reservation_id: String,
    pub user_id: String,
    pub concert_id: String,
    pub schedule_id: ScheduleId,
    pub seat_number: u32,
    pub amount: u64,
    /// RFC 3339.
    pub paid_at: String,
}

impl PaymentCompleted {
    /// Parses and checks an event from the topic. `Err` means the record can never be applied.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let event: PaymentCompleted = serde_json::from_slice(bytes).map_err(|e| format!("not a PaymentCompleted: {e}"))?;
        if event.schema_version != PAYMENT_COMPLETED_VERSION || event.kind != "PaymentCompleted" {
            return Err(format!("unknown event {} v{}", event.kind, event.schema_version));
        }
        if event.event_id.is_empty() || event.event_id.len() > 64 {
            return Err("eventId must be 1 to 64 characters".into());
        }
        // No seat costs more than the highest price an operator can set.
        if event.amount > super::inputs::Amount::MAX_CHARGE {
            return Err(format!("amount {} is above any price", event.amount));
        }
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> serde_json::Value {
        serde_json::json!({
            "schemaVersion": 1, "type": "PaymentCompleted", "eventId": "e1", "paymentId": "p",
            "reservationId": "r", "userId": "u", "concertId": "c",
            "scheduleId": "0123456789abcdef0123456789abcdef", "seatNumber": 7, "amount": 50000,
            "paidAt": "2026-11-25T12:00:00.000Z"
        })
    }

    #[test]
    fn a_valid_event_parses() {
        let e = PaymentCompleted::parse(sample().to_string().as_bytes()).unwrap();
        assert_eq!((e.seat_number, e.amount), (7, 50_000));
    }

    #[test]
    fn garbage_and_unknown_versions_are_rejected() {
        assert!(PaymentCompleted::parse(b"not json").is_err());
        let mut v = sample();
        v["schemaVersion"] = 2.into();
        assert!(PaymentCompleted::parse(v.to_string().as_bytes()).is_err());
        let mut v = sample();
        v["scheduleId"] = "{q}:x".into();
        assert!(PaymentCompleted::parse(v.to_string().as_bytes()).is_err());
        let mut v = sample();
        v["amount"] = u64::MAX.into();
        assert!(PaymentCompleted::parse(v.to_string().as_bytes()).is_err(), "a poison amount is malformed, never half-counted");
    }
}
