//! [`App`]: the clients and settings a function builds once per process, and the caller checks
//! every handler makes with them (who is calling, with which queue token, as an operator?).

use std::future::Future;
use std::time::Instant;

use lambda_http::http::header::{HeaderName, AUTHORIZATION};
use lambda_http::Request;

use crate::config::{Config, Secret};
use crate::domain::ids::{ConcertId, UserId};
use crate::domain::now_ms;
use crate::domain::tokens::{QueueTicket, TokenError, TokenSigner};
use crate::error::{ApiError, ErrorCode};
use crate::http::{header, HttpResult};
use crate::startup::StartupError;
use crate::store::booking::HoldPolicy;
use crate::store::queue::Admission;
use crate::store::{ConnectError, Store};

/// The header that carries the queue token.
pub const QUEUE_TOKEN_HEADER: HeaderName = HeaderName::from_static("queue-token");

pub struct App {
    pub config: Config,
    pub store: Store,
    /// Signs and checks tokens, in the functions that have `AUTH_SECRET`.
    signer: Option<TokenSigner>,
    /// The Kafka producer, for the functions that publish payment events (`pay`, `outbox-relay`).
    #[cfg(feature = "kafka")]
    events: Option<crate::kafka::PaymentEvents>,
}

impl App {
    /// Reads the environment and connects to Redis. Errors name what is wrong, so a broken
    /// deployment fails at cold start with a readable message.
    pub async fn from_env() -> Result<Self, StartupError> {
        let mut config = Config::from_env()?;
        config.resolve_secrets().await?;
        Ok(Self::new(config).await?)
    }

    pub async fn new(config: Config) -> Result<Self, ConnectError> {
        let r = &config.redis;
        let store = Store::connect(&r.url, r.ca_file.as_deref(), r.pool_size, &r.key_prefix, r.retention)
            .await?
            .with_catalog_cache(r.catalog_cache);
        let signer = config.auth.secret.as_ref().map(|secret| TokenSigner::new(secret.expose().as_bytes()));
        Ok(App {
            config,
            store,
            signer,
            #[cfg(feature = "kafka")]
            events: None,
        })
    }

    /// Adds the Kafka producer of `KAFKA_BROKERS` (none when it is unset: events wait in the
    /// outbox).
    #[cfg(feature = "kafka")]
    pub fn with_payment_events(mut self) -> Result<Self, StartupError> {
        self.events = crate::kafka::PaymentEvents::from_settings(&self.config.kafka)?;
        Ok(self)
    }

    #[cfg(feature = "kafka")]
    pub fn events(&self) -> Option<&crate::kafka::PaymentEvents> {
        self.events.as_ref()
    }

    /// The token signer; a function deployed without `AUTH_SECRET` has none (a deployment fault,
    /// answered 500 and logged).
    pub fn signer(&self) -> Result<&TokenSigner, ApiError> {
        self.signer.as_ref().ok_or_else(|| ApiError::internal("this function has no AUTH_SECRET (or AUTH_SECRET_ID)"))
    }

    /// The admission settings of one waiting-room tick.
    pub fn admission(&self) -> Admission {
        let a = &self.config.admission;
        Admission {
            admit_per_tick: a.admit_per_tick,
            active_cap: a.active_cap,
            overbooking: a.overbooking,
            active_ttl_ms: a.active_ttl.as_millis() as u64,
            wait_idle_ms: a.wait_idle.as_millis() as u64,
            wait_abandon_ms: a.wait_abandon.as_millis() as u64,
            tick_ms: a.tick.as_millis() as u64,
            hold_ms: self.config.booking.hold.as_millis() as u64,
            step: a.admit_step,
            active_idle_ms: a.active_idle.as_millis() as u64,
            autopilot: a.autopilot,
            target_p95_ms: a.target_p95_ms,
            door: a.door,
        }
    }

    /// How holds are granted (`HOLD_SECONDS`, `MAX_SEATS_PER_FAN`).
    pub fn hold_policy(&self) -> HoldPolicy {
        let b = &self.config.booking;
        HoldPolicy { hold_ms: b.hold.as_millis() as u64, max_seats: b.max_seats_per_fan }
    }

    /// Runs `work`, an answer of the booking path to an admitted fan of `concert`, and counts its
    /// service time (and whether it was a 5xx) in the room's health, the autopilot's signal. The
    /// count is one script call sent in the background after the answer: it never delays or
    /// fails it (on Lambda it completes before the next invocation at the latest).
    pub async fn on_booking_path(&self, concert: &ConcertId, work: impl Future<Output = HttpResult>) -> HttpResult {
        let started = Instant::now();
        let result = work.await;
        let server_error = match &result {
            Ok(resp) => resp.status().is_server_error(),
            Err(err) => err.status().is_server_error(),
        };
        let (health, concert, took) = (self.store.health.clone(), concert.clone(), started.elapsed());
        tokio::spawn(async move {
            if let Err(e) = health.record(&concert, took, server_error, now_ms()).await {
                tracing::debug!(error = %e, "the booking path's health was not counted");
            }
        });
        result
    }

    /// The user of the `Authorization: Bearer` access token.
    pub fn authenticate(&self, req: &Request) -> Result<UserId, ApiError> {
        let token = header(req, AUTHORIZATION)
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| ApiError::new(ErrorCode::MissingToken, "send Authorization: Bearer <accessToken>"))?;
        self.signer()?.verify_access(token, now_ms() / 1000).map_err(|e| match e {
            TokenError::Expired => ApiError::new(ErrorCode::TokenExpired, "the access token has expired; sign up again"),
            _ => ApiError::new(ErrorCode::InvalidToken, "the access token is not valid"),
        })
    }

    /// The caller's `Queue-Token`. A token issued to another user is rejected like a forged one.
    pub fn queue_ticket(&self, req: &Request, user: &UserId) -> Result<QueueTicket, ApiError> {
        let token =
            header(req, QUEUE_TOKEN_HEADER).ok_or_else(|| ApiError::new(ErrorCode::MissingQueueToken, "send Queue-Token: <queueToken>"))?;
        match self.signer()?.verify_queue(token.trim()) {
            Ok(ticket) if &ticket.user == user => {
                crate::http::note_room(&ticket.concert);
                Ok(ticket)
            }
            _ => Err(ApiError::new(ErrorCode::InvalidQueueToken, "the queue token is not valid for this user")),
        }
    }

    /// Both tokens, for the endpoints behind the waiting room. Whether the ticket is ACTIVE is
    /// checked by the store, in the same round trip as the read or write it guards.
    pub fn admitted_caller(&self, req: &Request) -> Result<QueueTicket, ApiError> {
        let user = self.authenticate(req)?;
        self.queue_ticket(req, &user)
    }

    /// Operators send `X-Admin-Key: <ADMIN_KEY>`; with no ADMIN_KEY configured the admin
    /// endpoints are off.
    pub fn authorize_operator(&self, req: &Request) -> Result<(), ApiError> {
        let expected = self
            .config
            .auth
            .admin_key
            .as_ref()
            .map(Secret::expose)
            .ok_or_else(|| ApiError::new(ErrorCode::AdminDisabled, "set ADMIN_KEY to enable the admin endpoints"))?;
        let given = header(req, "x-admin-key").unwrap_or_default();
        // Compare in constant time, so the key cannot be guessed byte by byte from response times.
        let same = given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if same {
            Ok(())
        } else {
            Err(ApiError::new(ErrorCode::InvalidAdminKey, "send X-Admin-Key with the operator key"))
        }
    }
}
