//! [`StartupError`]: why a process could not start, kept apart from the errors of requests. A cold
//! start that fails reports it (with [`StartupError::error_type`]) and exits, so a broken
//! deployment shows its cause once instead of failing every request.

use crate::config::{ConfigError, SecretError};
use crate::store::ConnectError;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is missing or malformed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A secret named by `AUTH_SECRET_ID` or `ADMIN_KEY_ID` could not be read.
    #[error("cannot read a secret: {0}")]
    Secret(#[from] SecretError),
    /// The store's settings cannot work, or Redis did not answer.
    #[error("cannot connect to Redis: {0}")]
    Store(#[from] ConnectError),
    /// The Kafka producer could not be made from its settings.
    #[cfg(feature = "kafka")]
    #[error("cannot make the Kafka producer: {0}")]
    Kafka(#[from] crate::kafka::ProducerError),
}

impl StartupError {
    /// The error type a Lambda runtime is told (`Lambda-Runtime-Function-Error-Type`, see
    /// [`crate::lifecycle::startup`]).
    pub fn error_type(&self) -> &'static str {
        use crate::lifecycle::startup;
        match self {
            StartupError::Config(_) => startup::CONFIG,
            StartupError::Store(e) if e.is_settings() => startup::CONFIG,
            StartupError::Secret(_) => startup::SECRETS,
            StartupError::Store(_) => startup::STORE,
            #[cfg(feature = "kafka")]
            StartupError::Kafka(_) => startup::KAFKA,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::error::Error;

    #[tokio::test]
    async fn a_bad_redis_url_or_key_prefix_is_a_settings_error_that_keeps_its_cause() {
        let err = Config::from_lookup(|n| (n == "KEY_PREFIX").then(|| "a{b}".to_string())).map_err(StartupError::from).unwrap_err();
        assert_eq!(err.error_type(), "Startup.Config");
        assert!(err.to_string().contains("KEY_PREFIX"), "{err}");

        let store = crate::store::Store::connect("redis://127.0.0.1:notaport", None, 1, "tk", std::time::Duration::from_secs(1)).await;
        let err = StartupError::from(store.err().expect("a bad URL is refused"));
        assert_eq!(err.error_type(), "Startup.Config");
        assert!(err.to_string().contains("REDIS_URL"), "{err}");
        assert!(err.source().and_then(|s| s.source()).is_some(), "the client's own error is kept as the cause");
    }
}
