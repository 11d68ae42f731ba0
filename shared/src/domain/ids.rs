//! Identifiers are 128 random bits as 32 lowercase hex digits. Parsing one from a path or body
//! also keeps arbitrary text out of Redis key names.

use std::fmt;

use super::{Field, ValidationError};

macro_rules! random_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(raw: String) -> Result<Self, ValidationError> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl $name {
            pub fn random() -> Self {
                Self(format!("{:032x}", rand::random::<u128>()))
            }

            pub fn parse(raw: &str) -> Result<Self, ValidationError> {
                if raw.len() == 32 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(ValidationError::new(Field::Id, format!("{} must be 32 lowercase hex digits", $what)))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

random_id!(
    /// A fan's account.
    UserId, "userId"
);
impl UserId {
    /// The id's 16 bytes in base64url: 22 characters instead of 32, for where the id is stored
    /// once per waiting fan (a room's `holder` hash).
    pub fn compact(&self) -> String {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
        let bits = u128::from_str_radix(&self.0, 16).expect("an id is 32 hex digits");
        URL_SAFE_NO_PAD.encode(bits.to_be_bytes())
    }
}

random_id!(
    /// A concert: title and venue, with one or more schedules.
    ConcertId, "concertId"
);
random_id!(
    /// One performance of a concert: a start time, a price and numbered seats.
    ScheduleId, "scheduleId"
);
random_id!(
    /// A hold of one seat by one user, which payment turns into a purchase.
    ReservationId, "reservationId"
);
random_id!(
    /// A completed (or in-flight) payment of one reservation.
    PaymentId, "paymentId"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_parse_back() {
        let id = UserId::random();
        assert_eq!(UserId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn compact_ids_are_distinct_and_short() {
        let a = UserId::parse("00000000000000000000000000000001").unwrap();
        let b = UserId::parse("10000000000000000000000000000000").unwrap();
        assert_eq!(a.compact(), "AAAAAAAAAAAAAAAAAAAAAQ");
        assert_eq!(b.compact(), "EAAAAAAAAAAAAAAAAAAAAA");
        let random = UserId::random();
        assert_eq!(random.compact().len(), 22);
        assert_ne!(random.compact(), UserId::random().compact());
    }

    #[test]
    fn stored_ids_are_checked_when_read() {
        let id = ScheduleId::random();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<ScheduleId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<ScheduleId>("\"{q}\"").is_err());
    }

    #[test]
    fn anything_else_is_rejected() {
        for bad in ["", "abc", "x".repeat(32).as_str(), "0123456789ABCDEF0123456789abcdef", "{q}:waiting"] {
            let err = ScheduleId::parse(bad).unwrap_err();
            assert_eq!(err.field, Field::Id, "{bad}");
        }
    }
}
