//! Configuration from environment variables, read once per process, as nested settings: where
//! Redis is (`redis`), the tokens and the operator key (`auth`), admission (`admission`), holds
//! (`booking`), per-address limits (`limits`) and Kafka (`kafka`). A missing or malformed value
//! fails the cold start with a [`ConfigError`] naming the variable, instead of failing requests
//! later. Secrets are [`Secret`]s: printing a `Config` (`{:?}`) shows none of them.

mod secret;

pub use secret::Secret;

use std::time::Duration;

use crate::domain::challenge::{Door, MAX_BITS};

/// Every setting the functions read. Durations are whole seconds or milliseconds as named.
#[derive(Clone, Debug)]
pub struct Config {
    pub redis: RedisSettings,
    pub auth: AuthSettings,
    pub admission: AdmissionSettings,
    pub booking: BookingSettings,
    pub limits: LimitSettings,
    pub kafka: KafkaSettings,
}

/// Where the data lives and how long it is kept.
#[derive(Clone, Debug)]
pub struct RedisSettings {
    /// `REDIS_URL`, e.g. `redis://127.0.0.1:6379` (or `rediss://` for TLS).
    pub url: String,
    /// `REDIS_CA_FILE`: a PEM file of certificate authorities to trust for a `rediss://` URL,
    /// besides the system's (for a Redis with a private CA).
    pub ca_file: Option<String>,
    /// `REDIS_POOL_SIZE`: connections per process. One is right for Lambda, which sends one
    /// request at a time to a process; an in-process gateway wants a few.
    pub pool_size: usize,
    /// `KEY_PREFIX`: namespace in front of every Redis key, so several deployments (or tests)
    /// share one Redis. Not empty, no braces (they would break the keys' hash tags).
    pub key_prefix: String,
    /// `RETENTION_SECONDS` (default 604800, a week): how long finished working data is kept (unpaid
    /// reservations' records, a sold-out room's places); purchases and the ledger stay.
    pub retention: Duration,
    /// `CATALOG_CACHE_MILLIS` (default 1000; 0 reads Redis every time): how long one process
    /// serves the public catalog it last read, so a crowd reading it costs Redis one read per
    /// period per process, not one per request.
    pub catalog_cache: Duration,
}

/// Tokens and the operator key.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// `AUTH_SECRET`: HMAC key for access and queue tokens, at least 32 bytes. Only the functions
    /// that issue or check tokens have it; the others (the catalog, the pages, the schedules, the
    /// admin functions) run without.
    pub secret: Option<Secret>,
    /// `AUTH_SECRET_ID`: where `AUTH_SECRET` is read from at cold start when it is not set itself:
    /// a Secrets Manager secret id or ARN, or `ssm:/parameter/name` (see `secrets.rs`).
    pub secret_id: Option<String>,
    /// `ADMIN_KEY`: the `X-Admin-Key` operators send to the admin endpoints. Unset disables them.
    pub admin_key: Option<Secret>,
    /// `ADMIN_KEY_ID`: the same as `AUTH_SECRET_ID`, for `ADMIN_KEY`.
    pub admin_key_id: Option<String>,
    /// `ACCESS_TOKEN_TTL_SECONDS` (default 86400).
    pub access_token_ttl: Duration,
}

/// The waiting room's admission: the defaults of every room an operator has not tuned, and the
/// lifetimes that apply to all.
#[derive(Clone, Debug)]
pub struct AdmissionSettings {
    /// `ADMIT_PER_TICK` (default 100): at most this many users leave the queue per tick.
    pub admit_per_tick: u64,
    /// `ACTIVE_CAP` (default 1000): never more ACTIVE users than this.
    pub active_cap: u64,
    /// `OVERBOOKING` (default 1.5): ACTIVE fans without a hold are kept at or below the seats
    /// still available times this.
    pub overbooking: f64,
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
    /// `TICK_MILLIS` (default 1000): the admission tick.
    pub tick: Duration,
    /// `ADMIT_STEP` (default 1000): the most tickets one call of the admission script moves. A
    /// tick admitting more takes several calls, so no call holds Redis (and every other request
    /// on it) for more than a few milliseconds.
    pub admit_step: u64,
    /// `ACTIVE_IDLE_SECONDS` (default 60, at least 10): an admitted fan who makes no request on
    /// the booking path (seat listing, hold, payment, own status) for this long gives the slot
    /// back, well before `ACTIVE_TTL_SECONDS`. The fan's page refreshes the seat map every 5 s.
    pub active_idle: Duration,
    /// `AUTOPILOT` (default true): whether rooms that have not chosen run on the autopilot, which
    /// sets admission from the booking path's measured p95 (`shared/src/domain/autopilot.rs`).
    pub autopilot: bool,
    /// `TARGET_P95_MS` (default 50): the booking path's p95 the autopilot keeps rooms at or under,
    /// unless a room sets its own `targetP95Ms`.
    pub target_p95_ms: u64,
    /// `POW_MIN_BITS` (default 16) and `POW_MAX_BITS` (default 20, at most 32; 0 opens the door to
    /// all): the proof of work a join needs in rooms without their own `powMinBits`/`powMaxBits`
    /// (`shared/src/domain/challenge.rs`).
    pub door: Door,
}

/// Holds.
#[derive(Clone, Debug)]
pub struct BookingSettings {
    /// `HOLD_SECONDS` (default 300): how long a held seat waits for payment.
    pub hold: Duration,
    /// `MAX_SEATS_PER_FAN` (default 4): live holds plus purchases per fan per concert.
    pub max_seats_per_fan: u64,
}

/// Requests per client address per minute (0 is off).
#[derive(Clone, Debug)]
pub struct LimitSettings {
    /// `SIGNUPS_PER_MINUTE` (default 20).
    pub signups_per_minute: u64,
    /// `JOINS_PER_MINUTE` (default 60).
    pub joins_per_minute: u64,
}

/// The payment events' broker.
#[derive(Clone, Debug)]
pub struct KafkaSettings {
    /// `KAFKA_BROKERS`: bootstrap servers, e.g. `127.0.0.1:9092`. Unset: events wait in the outbox.
    pub brokers: Option<String>,
    /// `PAYMENTS_TOPIC` (default `payment-completed`).
    pub payments_topic: String,
    /// `KAFKA_PUBLISH_TIMEOUT_MILLIS` (default 1000): how long `pay` waits for Kafka before leaving
    /// the event to the relay.
    pub publish_timeout: Duration,
    /// `KAFKA_IDEMPOTENCE` (default true): the idempotent producer. Turn off only for brokers
    /// that mishandle it (see the README); then one request is in flight, so order still holds.
    pub idempotence: bool,
    /// `KAFKA_PARTIAL_BATCH_RESPONSES` (default false): whether the Kafka trigger's event source
    /// honours a partial batch response (`ReportBatchItemFailures`, which Lambda offers for Kafka
    /// only in provisioned mode). Without it, a batch with a record that failed for a passing reason
    /// fails as a whole and Lambda delivers it again; the ledger deduplicates the records that had
    /// already been applied.
    pub partial_batch_responses: bool,
    /// `KAFKA_SECURITY_PROTOCOL`, `KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`: passed to
    /// librdkafka as they are (see the README), by librdkafka's name.
    pub client_settings: Vec<(String, String)>,
    /// `KAFKA_SASL_PASSWORD`, passed as `sasl.password`.
    pub sasl_password: Option<Secret>,
}

fn check_auth_secret(secret: &str) -> Result<(), ConfigError> {
    if secret.len() < 32 {
        return Err(ConfigError { name: "AUTH_SECRET", problem: format!("must be at least 32 bytes, got {}", secret.len()) });
    }
    Ok(())
}

/// A secret named by `AUTH_SECRET_ID` or `ADMIN_KEY_ID` that could not be read at cold start.
#[derive(Debug, thiserror::Error)]
#[error("{name} {id}: {problem}")]
pub struct SecretError {
    name: &'static str,
    id: String,
    problem: String,
}

impl Config {
    /// Reads the secrets named by `AUTH_SECRET_ID` and `ADMIN_KEY_ID` (when the secrets themselves
    /// are not set) through the AWS Parameters and Secrets Lambda Extension, at cold start.
    pub async fn resolve_secrets(&mut self) -> Result<(), SecretError> {
        let auth = &mut self.auth;
        if let (None, Some(id)) = (&auth.secret, &auth.secret_id) {
            let failed = |problem: String| SecretError { name: "AUTH_SECRET_ID", id: id.clone(), problem };
            let secret = crate::secrets::read(id).await.map_err(failed)?;
            check_auth_secret(&secret).map_err(|e| failed(e.to_string()))?;
            auth.secret = Some(Secret::new(secret));
        }
        if let (None, Some(id)) = (&auth.admin_key, &auth.admin_key_id) {
            let failed = |problem: String| SecretError { name: "ADMIN_KEY_ID", id: id.clone(), problem };
            auth.admin_key = Some(Secret::new(crate::secrets::read(id).await.map_err(failed)?));
        }
        Ok(())
    }
}

/// The shortest `WAIT_IDLE_SECONDS`: twice the longest `Retry-After` (30 s) a waiting fan gets.
pub const MIN_WAIT_IDLE_SECONDS: u64 = 60;

/// Optional librdkafka settings for secured clusters (MSK, Confluent, ...), by variable name.
const KAFKA_CLIENT_SETTINGS: [(&str, &str); 3] = [
    ("KAFKA_SECURITY_PROTOCOL", "security.protocol"),
    ("KAFKA_SASL_MECHANISM", "sasl.mechanism"),
    ("KAFKA_SASL_USERNAME", "sasl.username"),
];

/// A setting that is missing or malformed, by its variable's name.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {name} {problem}")]
pub struct ConfigError {
    name: &'static str,
    problem: String,
}

impl ConfigError {
    /// The variable at fault.
    pub fn name(&self) -> &'static str {
        self.name
    }
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
        let bits = |name: &'static str, default: u8| -> Result<u8, ConfigError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => match raw.trim().parse::<u8>() {
                    Ok(v) if v <= MAX_BITS => Ok(v),
                    _ => Err(ConfigError { name, problem: format!("must be an integer from 0 to {MAX_BITS}, got {raw:?}") }),
                },
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
        let key_prefix = get("KEY_PREFIX").unwrap_or_else(|| "tk".into());
        if key_prefix.contains(['{', '}']) {
            return Err(ConfigError { name: "KEY_PREFIX", problem: format!("must be free of braces, got {key_prefix:?}") });
        }
        let redis = RedisSettings {
            url: get("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
            ca_file: get("REDIS_CA_FILE"),
            pool_size: number("REDIS_POOL_SIZE", 1, 1)? as usize,
            key_prefix,
            retention: Duration::from_secs(number("RETENTION_SECONDS", 604_800, 1)?),
            catalog_cache: Duration::from_millis(number("CATALOG_CACHE_MILLIS", 1000, 0)?),
        };
        let auth = AuthSettings {
            secret: secret.map(Secret::new),
            secret_id: get("AUTH_SECRET_ID"),
            admin_key: get("ADMIN_KEY").map(Secret::new),
            admin_key_id: get("ADMIN_KEY_ID"),
            access_token_ttl: Duration::from_secs(number("ACCESS_TOKEN_TTL_SECONDS", 86_400, 60)?),
        };
        let admission = AdmissionSettings {
            admit_per_tick: number("ADMIT_PER_TICK", 100, 1)?,
            active_cap: number("ACTIVE_CAP", 1000, 1)?,
            overbooking: match get("OVERBOOKING") {
                None => 1.5,
                Some(raw) => match raw.trim().parse::<f64>() {
                    Ok(x) if x.is_finite() && (0.1..=10.0).contains(&x) => x,
                    _ => return Err(ConfigError { name: "OVERBOOKING", problem: format!("must be a number from 0.1 to 10, got {raw:?}") }),
                },
            },
            active_ttl: Duration::from_secs(number("ACTIVE_TTL_SECONDS", 600, 1)?),
            wait_idle: Duration::from_secs(wait_idle),
            wait_abandon: Duration::from_secs(wait_abandon),
            tick: Duration::from_millis(number("TICK_MILLIS", 1000, 10)?),
            admit_step: number("ADMIT_STEP", 1000, 1)?,
            active_idle: Duration::from_secs(number("ACTIVE_IDLE_SECONDS", 60, 10)?),
            autopilot: flag("AUTOPILOT", true)?,
            target_p95_ms: number("TARGET_P95_MS", 50, 1)?,
            door: Door { min_bits: bits("POW_MIN_BITS", 16)?, max_bits: bits("POW_MAX_BITS", 20)? },
        };
        let booking = BookingSettings {
            hold: Duration::from_secs(number("HOLD_SECONDS", 300, 1)?),
            max_seats_per_fan: number("MAX_SEATS_PER_FAN", 4, 1)?,
        };
        let limits = LimitSettings {
            signups_per_minute: number("SIGNUPS_PER_MINUTE", 20, 0)?,
            joins_per_minute: number("JOINS_PER_MINUTE", 60, 0)?,
        };
        let kafka = KafkaSettings {
            brokers: get("KAFKA_BROKERS"),
            payments_topic: get("PAYMENTS_TOPIC").unwrap_or_else(|| "payment-completed".into()),
            publish_timeout: Duration::from_millis(number("KAFKA_PUBLISH_TIMEOUT_MILLIS", 1000, 10)?),
            idempotence: flag("KAFKA_IDEMPOTENCE", true)?,
            partial_batch_responses: flag("KAFKA_PARTIAL_BATCH_RESPONSES", false)?,
            client_settings: KAFKA_CLIENT_SETTINGS.iter().filter_map(|(env, key)| get(env).map(|v| (key.to_string(), v))).collect(),
            sasl_password: get("KAFKA_SASL_PASSWORD").map(Secret::new),
        };
        Ok(Config { redis, auth, admission, booking, limits, kafka })
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
        assert_eq!(c.booking.hold, Duration::from_secs(300));
        assert_eq!(c.admission.active_ttl, Duration::from_secs(600));
        assert_eq!(c.admission.wait_idle, Duration::from_secs(120));
        assert_eq!(c.admission.tick, Duration::from_secs(1));
        assert_eq!(c.auth.admin_key, None);
        assert_eq!((c.admission.overbooking, c.booking.max_seats_per_fan), (1.5, 4));
    }

    #[test]
    fn a_function_without_tokens_needs_no_secret_and_a_short_one_is_refused() {
        let c = with(&[("ADMIN_KEY_ID", "ticketing/admin-key")]).unwrap();
        assert_eq!((c.auth.secret, c.auth.admin_key_id.as_deref()), (None, Some("ticketing/admin-key")));
        let err = with(&[("AUTH_SECRET", "short")]).unwrap_err().to_string();
        assert!(err.contains("AUTH_SECRET") && err.contains("at least 32"), "{err}");
    }

    #[test]
    fn kafka_settings_are_optional_and_checked() {
        let c = with(&[("AUTH_SECRET", SECRET)]).unwrap();
        assert_eq!((c.kafka.brokers.as_deref(), c.kafka.idempotence), (None, true));
        assert_eq!(c.kafka.payments_topic, "payment-completed");
        let c = with(&[
            ("AUTH_SECRET", SECRET),
            ("KAFKA_BROKERS", "b1:9092,b2:9092"),
            ("KAFKA_IDEMPOTENCE", "false"),
            ("KAFKA_SECURITY_PROTOCOL", "SASL_SSL"),
        ])
        .unwrap();
        assert!(!c.kafka.idempotence);
        assert_eq!(c.kafka.client_settings, vec![("security.protocol".to_string(), "SASL_SSL".to_string())]);
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

    #[test]
    fn a_key_prefix_with_braces_is_refused_by_name() {
        let err = with(&[("KEY_PREFIX", "a{b}")]).unwrap_err();
        assert_eq!(err.name(), "KEY_PREFIX");
    }

    #[test]
    fn printing_a_config_with_every_secret_set_shows_none_of_them() {
        let secrets = ["auth-secret-auth-secret-auth-secret!", "the-admin-key-7f3a", "the-sasl-password-9c1e"];
        let c = with(&[
            ("AUTH_SECRET", secrets[0]),
            ("ADMIN_KEY", secrets[1]),
            ("KAFKA_SASL_PASSWORD", secrets[2]),
            ("KAFKA_SASL_USERNAME", "payments"),
            ("KAFKA_BROKERS", "b1:9092"),
        ])
        .unwrap();
        for printed in [format!("{c:?}"), format!("{c:#?}")] {
            for secret in secrets {
                assert!(!printed.contains(secret), "{secret} printed in {printed}");
            }
            assert!(printed.contains("[redacted]") && printed.contains("payments"), "{printed}");
        }
        assert_eq!(c.auth.secret.as_ref().map(Secret::expose), Some(secrets[0]));
        assert_eq!(c.kafka.sasl_password.as_ref().map(Secret::expose), Some(secrets[2]));
    }
}
