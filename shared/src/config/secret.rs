//! [`Secret`]: a setting that must never reach a log. Its `Debug` and `Display` print
//! `[redacted]`; the value is read only through [`Secret::expose`], at the one place that uses it.

use std::fmt;

/// A secret setting (the token key, the operator key, a Kafka password).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the code that signs, compares or sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_prints_as_redacted() {
        let secret = Secret::new("hunter2-hunter2");
        assert_eq!(format!("{secret:?} {secret}"), "Secret([redacted]) [redacted]");
        assert_eq!(secret.expose(), "hunter2-hunter2");
    }
}
