//! Configuration from environment variables, read once per process. A missing or malformed value
//! fails the cold start with a message naming the variable, instead of failing requests later.

use std::time::Duration;

/// Every setting the functions read. Durations are whole seconds or milliseconds as named.
#[derive(Clone, Debug)]
pub struct Config {
    /// `REDIS_URL`, e.g. `redis://127.0.0.1:6379` (or `rediss://` for TLS).
    pub redis_url: String,
    /// `REDIS_CA_FILE`: a PEM file of certificate authorities to trust for a `rediss://` URL,
    /// besides the system's (for a Redis with a private CA).
    pub redis_ca_file: Option<String>,
    /// `REDIS_POOL_SIZE`: connections per process. One is right for Lambda, which sends one
    /// request at a time to a process; an in-process gateway wants a few.
    pub redis_pool_size: usize,
    /// `KEY_PREFIX`: namespace in front of every Redis key, so several deployments (or tests)
    /// share one Redis.
    pub key_prefix: String,
    /// `AUTH_SECRET`: HMAC key for access and queue tokens, at least 32 bytes. Only the functions
    /// that issue or check tokens have it; the others (the catalog, the pages, the schedules, the
    /// admin functions) run without.
    pub auth_secret: Option<Vec<u8>>,
    /// `AUTH_SECRET_ID`: where `AUTH_SECRET` is read from at cold start when it is not set itself:
    /// a Secrets Manager secret id or ARN, or `ssm:/parameter/name` (see `secrets.rs`).
    pub auth_secret_id: Option<String>,
    /// `ADMIN_KEY_ID`: the same for `ADMIN_KEY`.
    pub admin_key_id: Option<String>,
    /// `ADMIN_KEY`: the `X-Admin-Key` operators send to the admin endpoints. Unset disables them.
    pub admin_key: Option<String>,
    /// `ACCESS_TOKEN_TTL_SECONDS` (default 86400).
    pub access_token_ttl: Duration,
    /// `HOLD_SECONDS` (default 300): how long a held seat waits for payment.
    pub hold: Duration,
    /// `ACTIVE_TTL_SECONDS` (default 600): how long an admitted queue token stays ACTIVE.
    pub active_ttl: Duration,
    /// `WAIT_IDLE_SECONDS` (default 120): a WAITING place is admitted only if its holder polled
    /// within this time; one not seen for it when its turn comes is dropped instead.
    pub wait_idle: Duration,
    /// `WAIT_ABANDON_SECONDS` (default 1800, at least `WAIT_IDLE_SECONDS`): a place not polled for
    /// this long is dropped wherever it stands. A fan following the room's public state polls its
    /// own status a third as often (the `heartbeatSeconds` of `GET /concerts/{id}/room`), and at
    /// the `Retry-After` pace once its turn is near; whoever is about to be admitted must have been
    /// seen within `WAIT_IDLE_SECONDS`.
    pub wait_abandon: Duration,
    /// `ADMIT_PER_TICK` (default 100): at most this many users leave the queue per tick.
    pub admit_per_tick: u64,
    /// `ACTIVE_CAP` (default 1000): never more ACTIVE users than this.
    pub active_cap: u64,
    /// `OVERBOOKING` (default 1.5): ACTIVE fans without a hold are kept at or below the seats
    /// still available times this.
    pub overbooking: f64,
    /// `MAX_SEATS_PER_FAN` (default 4): live holds plus purchases per fan per concert.
    pub max_seats_per_fan: u64,
    /// `RETENTION_SECONDS` (default 604800, a week): how long finished working data is kept (unpaid
    /// reservations' records, a sold-out room's places); purchases and the ledger stay.
    pub retention: Duration,
    /// `SIGNUPS_PER_MINUTE` (default 20; 0 is off): signups per client address per minute.
    pub signups_per_minute: u64,
    /// `JOINS_PER_MINUTE` (default 60; 0 is off): queue entries per client address per minute.
    pub joins_per_minute: u64,
    /// `TICK_MILLIS` (default 1000): the admission tick.
    pub tick: Duration,
    /// `ADMIT_STEP` (default 1000): the most tickets one call of the admission script moves. A
    /// tick admitting more takes several calls, so no call holds Redis (and every other request
    /// on it) for more than a few milliseconds.
    pub admit_step: u64,
    /// `CATALOG_CACHE_MILLIS` (default 1000; 0 reads Redis every time): how long one process
    /// serves the public catalog it last read, so a crowd reading it costs Redis one read per
    /// period per process, not one per request.
    pub catalog_cache: Duration,
    /// `KAFKA_BROKERS`: bootstrap servers, e.g. `127.0.0.1:9092`. Unset: events wait in the outbox.
    pub kafka_brokers: Option<String>,
    /// `PAYMENTS_TOPIC` (default `payment-completed`).
    pub payments_topic: String,
    /// `KAFKA_PUBLISH_TIMEOUT_MILLIS` (default 1000): how long `pay` waits for Kafka before leaving
    /// the event to the relay.
    pub kafka_publish_timeout: Duration,
    /// `KAFKA_IDEMPOTENCE` (default true): the idempotent producer. Turn off only for brokers
    /// that mishandle it (see the README); then one request is in flight, so order still holds.
    pub kafka_idempotence: bool,
    /// `KAFKA_PARTIAL_BATCH_RESPONSES` (default false): whether the Kafka trigger's event source
    /// honours a partial batch response (`ReportBatchItemFailures`, which Lambda offers for Kafka
    /// only in provisioned mode). Without it, a batch with a record that failed for a passing reason
    /// fails as a whole and Lambda delivers it again; the ledger deduplicates the records that had
    /// already been applied.
    pub kafka_partial_batch_responses: bool,
    /// `KAFKA_SECURITY_PROTOCOL` and friends: passed to librdkafka as they are (see the README).
    pub kafka_client_settings: Vec<(String, String)>,
}

fn check_auth_secret(secret: &str) -> Result<(), ConfigError> {
    if secret.len() < 32 {
        return Err(ConfigError { name: "AUTH_SECRET", problem: format!("must be at least 32 bytes, got {}", secret.len()) });
    }
    Ok(())
}

impl Config {
    /// Reads the secrets named by `AUTH_SECRET_ID` and `ADMIN_KEY_ID` (when the secrets themselves
    /// are not set) through the AWS Parameters and Secrets Lambda Extension, at cold start.
    pub async fn resolve_secrets(&mut self) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if self.auth_secret.is_none() {
            if let Some(id) = &self.auth_secret_id {
                let secret = crate::secrets::read(id).await.map_err(|e| format!("AUTH_SECRET_ID {id}: {e}"))?;
                check_auth_secret(&secret)?;
                self.auth_secret = Some(secret.into_bytes());
            }
        }
        if self.admin_key.is_none() {
            if let Some(id) = &self.admin_key_id {
                self.admin_key = Some(crate::secrets::read(id).await.map_err(|e| format!("ADMIN_KEY_ID {id}: {e}"))?);
            }
        }
        Ok(())
    }
}

/// The shortest `WAIT_IDLE_SECONDS`: twice the longest `Retry-After` (30 s) a waiting fan gets.
pub const MIN_WAIT_IDLE_SECONDS: u64 = 60;

/// Optional librdkafka settings for secured clusters (MSK, Confluent, ...), by variable name.
const KAFKA_CLIENT_SETTINGS: [(&str, &str); 4] = [
    ("KAFKA_SECURITY_PROTOCOL", "security.protocol"),
    ("KAFKA_SASL_MECHANISM", "sasl.mechanism"),
    ("KAFKA_SASL_USERNAME", "sasl.username"),
    ("KAFKA_SASL_PASSWORD", "sasl.password"),
];

#[derive(Debug, thiserror::Error)]
#[error("configuration: {name} {problem}")]
pub struct ConfigError {
    name: &'static str,
    problem: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can supply their own.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let secret = get("AUTH_SECRET");
        if let Some(secret) = &secret {
            check_auth_secret(secret)?;
        }
        let number = |name: &'static str, default: u64, min: u64| -> Result<u64, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => match raw.trim().parse::<u64>() {
                    Ok(v) if v >= min => Ok(v),
                    _ => Err(ConfigError { name, problem: format!("must be an integer >= {min}, got {raw:?}") }),
                },
            }
        };
        let flag = |name: &'static str, default: bool| -> Result<bool, ConfigError> {
            match get(name).as_deref().map(str::trim) {
                None => Ok(default),
                Some("true") | Some("1") => Ok(true),
                Some("false") | Some("0") => Ok(false),
                Some(other) => Err(ConfigError { name, problem: format!("must be true or false, got {other:?}") }),
            }
        };
        let wait_idle = number("WAIT_IDLE_SECONDS", 120, 1)?;
        if wait_idle < MIN_WAIT_IDLE_SECONDS {
            return Err(ConfigError {
                name: "WAIT_IDLE_SECONDS",
                problem: format!(
                    "must be at least {MIN_WAIT_IDLE_SECONDS}, twice the longest Retry-After (30 s) a waiting fan is told, or fans who obey it are dropped; got {wait_idle}"
                ),
            });
        }
        let wait_abandon = number("WAIT_ABANDON_SECONDS", 1800, 1)?;
        if wait_abandon < wait_idle {
            return Err(ConfigError {
                name: "WAIT_ABANDON_SECONDS",
                problem: format!("must be at least WAIT_IDLE_SECONDS ({wait_idle}); got {wait_abandon}"),
            });
        }
        Ok(Config {
            redis_url: get("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
            redis_ca_file: get("REDIS_CA_FILE"),
            redis_pool_size: number("REDIS_POOL_SIZE", 1, 1)? as usize,
            key_prefix: get("KEY_PREFIX").unwrap_or_else(|| "tk".into()),
            auth_secret: secret.map(String::into_bytes),
            auth_secret_id: get("AUTH_SECRET_ID"),
            admin_key_id: get("ADMIN_KEY_ID"),
            admin_key: get("ADMIN_KEY"),
            access_token_ttl: Duration::from_secs(number("ACCESS_TOKEN_TTL_SECONDS", 86_400, 60)?),
            hold: Duration::from_secs(number("HOLD_SECONDS", 300, 1)?),
            active_ttl: Duration::from_secs(number("ACTIVE_TTL_SECONDS", 600, 1)?),
            wait_idle: Duration::from_secs(wait_idle),
            wait_abandon: Duration::from_secs(wait_abandon),
            admit_per_tick: number("ADMIT_PER_TICK", 100, 1)?,
            active_cap: number("ACTIVE_CAP", 1000, 1)?,
            overbooking: match get("OVERBOOKING") {
                None => 1.5,
                Some(raw) => match raw.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() && (0.1..=10.0).contains(&x) => x,
                    _ => return Err(ConfigError { name: "OVERBOOKING", problem: format!("must be a number from 0.1 to 10, got {raw:?}") }),
                },
            },
            max_seats_per_fan: number("MAX_SEATS_PER_FAN", 4, 1)?,
            retention: Duration::from_secs(number("RETENTION_SECONDS", 604_800, 1)?),
            signups_per_minute: number("SIGNUPS_PER_MINUTE", 20, 0)?,
            joins_per_minute: number("JOINS_PER_MINUTE", 60, 0)?,
            tick: Duration::from_millis(number("TICK_MILLIS", 1000, 10)?),
            catalog_cache: Duration::from_millis(number("CATALOG_CACHE_MILLIS", 1000, 0)?),
            admit_step: number("ADMIT_STEP", 1000, 1)?,
            kafka_brokers: get("KAFKA_BROKERS"),
            payments_topic: get("PAYMENTS_TOPIC").unwrap_or_else(|| "payment-completed".into()),
            kafka_publish_timeout: Duration::from_millis(number("KAFKA_PUBLISH_TIMEOUT_MILLIS", 1000, 10)?),
            kafka_idempotence: flag("KAFKA_IDEMPOTENCE", true)?,
            kafka_partial_batch_responses: flag("KAFKA_PARTIAL_BATCH_RESPONSES", false)?,
            kafka_client_settings: KAFKA_CLIENT_SETTINGS.iter().filter_map(|(env, key)| get(env).map(|v| (key.to_string(), v))).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(|name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn defaults_apply_when_only_the_secret_is_set() {
        let c = with(&[("AUTH_SECRET", SECRET)]).unwrap();
        assert_eq!(c.hold, Duration::from_secs(300));
        assert_eq!(c.active_ttl, Duration::from_secs(600));
        assert_eq!(c.wait_idle, Duration::from_secs(120));
        assert_eq!(c.tick, Duration::from_secs(1));
        assert_eq!(c.admin_key, None);
        assert_eq!((c.overbooking, c.max_seats_per_fan), (1.5, 4));
    }

    #[test]
    fn a_function_without_tokens_needs_no_secret_and_a_short_one_is_refused() {
        let c = with(&[("ADMIN_KEY_ID", "ticketing/admin-key")]).unwrap();
        assert_eq!((c.auth_secret, c.admin_key_id.as_deref()), (None, Some("ticketing/admin-key")));
        let err = with(&[("AUTH_SECRET", "short")]).unwrap_err().to_string();
        assert!(err.contains("AUTH_SECRET") && err.contains("at least 32"), "{err}");
    }

    #[test]
    fn kafka_settings_are_optional_and_checked() {
        let c = with(&[("AUTH_SECRET", SECRET)]).unwrap();
        assert_eq!((c.kafka_brokers.as_deref(), c.kafka_idempotence), (None, true));
        assert_eq!(c.payments_topic, "payment-completed");
        let c = with(&[
            ("AUTH_SECRET", SECRET),
            ("KAFKA_BROKERS", "b1:9092,b2:9092"),
            ("KAFKA_IDEMPOTENCE", "false"),
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
        ])
        .unwrap();
        assert!(!c.kafka_idempotence);
        assert_eq!(c.kafka_client_settings, vec![("security.protocol".to_string(), "SASL_SSL".to_string())]);
        let err = with(&[("AUTH_SECRET", SECRET), ("KAFKA_IDEMPOTENCE", "maybe")]).unwrap_err();
        assert!(err.to_string().contains("KAFKA_IDEMPOTENCE"), "{err}");
    }

    #[test]
    fn a_malformed_number_names_the_variable() {
        let err = with(&[("AUTH_SECRET", SECRET), ("ADMIT_PER_TICK", "lots")]).unwrap_err();
        assert!(err.to_string().contains("ADMIT_PER_TICK"), "{err}");
        let err = with(&[("AUTH_SECRET", SECRET), ("ACTIVE_CAP", "0")]).unwrap_err();
        assert!(err.to_string().contains("ACTIVE_CAP"), "{err}");
        let err = with(&[("AUTH_SECRET", SECRET), ("WAIT_IDLE_SECONDS", "20")]).unwrap_err().to_string();
        assert!(err.contains("WAIT_IDLE_SECONDS") && err.contains("Retry-After"), "{err}");
        let err = with(&[("AUTH_SECRET", SECRET), ("OVERBOOKING", "lots")]).unwrap_err();
        assert!(err.to_string().contains("OVERBOOKING"), "{err}");
    }
}
