//! The Redis store: the only code that talks to Redis, as one narrow store per aggregate over one
//! shared connection pool.
//!
//! Every state change is one Lua script, loaded once per process and run with `EVALSHA` through
//! [`script::Redis::run`], which decodes the script's one typed reply. The keys a script touches
//! share one `{hash tag}`, so each script touches one cluster slot and the store runs unchanged on
//! Redis Cluster. [`keys`] lists the layout. Operations that must span two tags (a payment touches
//! the schedule and the user) are sequences of single-slot scripts whose order keeps them correct;
//! `booking/mod.rs` explains the one that matters.
//!
//! - [`users`]: accounts and balances (`{u:ID}`).
//! - [`queue`]: the waiting rooms, one per concert (`{r:ID}`: places, status, admission ticks,
//!   operator settings) with the list of live rooms (`{rooms}`).
//! - [`gate`]: the ACTIVE check the booking endpoints make, and the end of a ticket.
//! - [`catalog`]: concerts and schedules, created by operators (`{catalog}`, schedule metas).
//! - [`booking`]: seat maps, holds, payments and the sweeper of lapsed holds (`{s:ID}` and the
//!   user's payments).
//! - [`outbox`]: the PaymentCompleted events waiting for Kafka, and the sales ledger they feed.
//! - [`limits`]: requests per client address per minute (`{rl:ADDRESS}`).
//! - [`health`]: the booking path's answers per room and second, the autopilot's signal.
//! - [`flows`]: operations that read one aggregate to act on another (the public catalog with
//!   its rooms and seats, a room's tick with its inventory, the sweeps, the operator's view).
//! - [`script`]: the connection, the [`script::Script`] trait every Lua script is called
//!   through, and the reply decoder they all share.
//!
//! Errors: a request the rules refuse is a [`Rejection`]; a store that cannot be reached is
//! [`StoreError::Unavailable`]; anything else is unexpected. `error.rs` maps them for clients.

pub mod booking;
pub mod catalog;
pub mod flows;
pub mod gate;
pub mod health;
pub mod keys;
pub mod limits;
pub mod outbox;
pub mod queue;
pub mod script;
pub mod users;

pub use keys::Keys;

use std::time::Duration;

use flows::CatalogCache;
use script::Redis;

/// What the rules refuse, whatever the store's state. Each is final for the request that got it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the account of this token no longer exists")]
    UserNotFound,
    #[error("no such schedule")]
    ScheduleNotFound,
    #[error("the schedule has no such seat")]
    SeatNotFound,
    #[error("the seat is held or sold")]
    SeatTaken,
    #[error("no such reservation for this user")]
    ReservationNotFound,
    #[error("the hold has expired; hold the seat again")]
    HoldExpired,
    #[error("the price is {price} but the balance is {balance}")]
    InsufficientBalance { price: u64, balance: u64 },
    #[error("a balance may not exceed {max}")]
    BalanceLimit { max: u64 },
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    #[error("the queue token is still waiting; poll its status")]
    QueueTokenNotActive,
    #[error("the queue token has ended; take a new one")]
    QueueTokenEnded,
    #[error("no such concert")]
    ConcertNotFound,
    #[error("the waiting room opens later")]
    SaleNotOpen { prequeue_opens_at_ms: u64 },
    #[error("every seat is sold")]
    SoldOut,
    #[error("a fan may hold and buy at most {max} seats of a concert")]
    SeatLimitReached { max: u64 },
    #[error("the queue token is for another concert; queue for this one")]
    WrongConcert,
    #[error("the sale has opened; its times can no longer change")]
    SaleAlreadyOpen,
    #[error("prequeueOpensAt must not be after opensAt")]
    BadSaleWindow,
    #[error("too many requests from this address; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("this room asks a solved challenge with each join: GET /concerts/{{concertId}}/challenge")]
    ChallengeRequired,
    #[error("this challenge's solution already took a place; ask for a new challenge")]
    ChallengeReused,
    #[error("this room is in its presale: send your presale code")]
    PresaleCodeRequired,
    #[error("no such presale code for this room")]
    PresaleCodeNotFound,
    #[error("this presale code belongs to another account")]
    PresaleCodeTaken,
}

#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    #[error("refused: {0}")]
    Rejected(#[from] Rejection),
    /// Redis did not answer in time or the connection is down; retrying later may succeed.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A reply or a stored record that breaks the store's own invariants: a bug.
    #[error("unexpected store answer: {0}")]
    Unexpected(String),
}

/// Redis's answers that mean "not now" rather than "never": a server loading its data after a
/// restart, a primary demoted to replica by a failover, a cluster or a primary down, a slot being
/// moved, a script running too long. The client reconnects on the first three (fred's
/// `custom-reconnect-errors`); the request that got one is answered 503 and may be retried.
const PASSING_SERVER_ERRORS: &[&str] = &["LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY", "NOREPLICAS"];

impl From<fred::error::Error> for StoreError {
    fn from(err: fred::error::Error) -> Self {
        use fred::error::ErrorKind;
        let passing = || PASSING_SERVER_ERRORS.iter().any(|prefix| err.details().split_whitespace().next() == Some(*prefix));
        match err.kind() {
            ErrorKind::IO | ErrorKind::Timeout | ErrorKind::Canceled | ErrorKind::Backpressure => StoreError::Unavailable(err.to_string()),
            _ if passing() => StoreError::Unavailable(err.to_string()),
            _ => StoreError::Unexpected(format!("redis: {err}")),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Why a process could not connect to its store at start-up: settings that cannot work (a bad
/// `REDIS_URL`, `KEY_PREFIX` or `REDIS_CA_FILE`), or a Redis that did not answer.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("REDIS_URL: {0}")]
    Url(#[source] fred::error::Error),
    #[error("KEY_PREFIX must be non-empty and free of braces, got {0:?}")]
    KeyPrefix(String),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("REDIS_URL asks for TLS ({0:?}) but the connection would not use it")]
    TlsNotUsed(String),
    #[error("Redis did not answer: {0}")]
    Unreachable(#[source] StoreError),
}

impl ConnectError {
    /// True when the settings are at fault, false when Redis is (retrying later may work).
    pub fn is_settings(&self) -> bool {
        !matches!(self, ConnectError::Unreachable(_))
    }
}

/// Every store, each owning its keys and scripts, over one connection pool. Build one per process.
pub struct Store {
    /// The public catalog as this process last read it (see [`Store::public_concerts_cached`]).
    catalog_cache: CatalogCache,
    /// The pool the stores share, for [`Store::probe`] (and test support).
    pub(crate) redis: Redis,
    pub users: users::UserStore,
    pub queue: queue::QueueStore,
    pub catalog: catalog::CatalogStore,
    pub booking: booking::BookingStore,
    pub outbox: outbox::OutboxStore,
    pub limits: limits::LimitStore,
    pub health: health::HealthStore,
}

impl Store {
    /// Connects to `url` (TLS for `rediss` URLs, trusting the system's roots and `ca_file`), and
    /// loads every script so the first request does not pay for it.
    pub async fn connect(
        url: &str,
        ca_file: Option<&str>,
        pool_size: usize,
        key_prefix: &str,
        retention: Duration,
    ) -> Result<Self, ConnectError> {
        let keys = Keys::new(key_prefix).ok_or_else(|| ConnectError::KeyPrefix(key_prefix.to_owned()))?;
        let redis = Redis::connect(url, ca_file, pool_size, keys).await?;
        let retention_ms = retention.as_millis() as u64;
        let store = Store {
            redis: redis.clone(),
            catalog_cache: CatalogCache::default(),
            users: users::UserStore::new(redis.clone()),
            queue: queue::QueueStore::new(redis.clone(), retention_ms),
            catalog: catalog::CatalogStore::new(redis.clone()),
            booking: booking::BookingStore::new(redis.clone(), retention_ms),
            outbox: outbox::OutboxStore::new(redis.clone()),
            limits: limits::LimitStore::new(redis.clone()),
            health: health::HealthStore::new(redis.clone()),
        };
        for script in store.scripts() {
            redis.load(script).await.map_err(ConnectError::Unreachable)?;
        }
        Ok(store)
    }

    /// One Redis `GET` of a key nobody writes: the least a request that touches Redis can cost,
    /// the baseline the gateway's benchmark measures the endpoints against.
    pub async fn probe(&self) -> StoreResult<()> {
        use fred::interfaces::KeysInterface;
        let _: Option<String> = self.redis.client().get(self.redis.keys.probe()).await?;
        Ok(())
    }

    /// Serves the public catalog from what this process read within the last `ttl` (zero: never).
    pub fn with_catalog_cache(mut self, ttl: Duration) -> Self {
        self.catalog_cache.ttl_ms = ttl.as_millis() as u64;
        self
    }

    fn scripts(&self) -> Vec<&'static script::LuaScript> {
        [
            users::UserStore::scripts(),
            queue::QueueStore::scripts(),
            gate::Gate::scripts(),
            booking::BookingStore::scripts(),
            outbox::OutboxStore::scripts(),
            limits::LimitStore::scripts(),
            health::HealthStore::scripts(),
        ]
        .concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fred::error::{Error, ErrorKind};

    #[test]
    fn passing_server_answers_are_unavailable_and_others_unexpected() {
        for passing in [
            "LOADING Redis is loading the dataset in memory",
            "READONLY You can't write against a read only replica.",
            "CLUSTERDOWN The cluster is down",
            "BUSY Redis is busy running a script.",
        ] {
            assert!(matches!(StoreError::from(Error::new(ErrorKind::Unknown, passing)), StoreError::Unavailable(_)), "{passing}");
        }
        for bug in [
            "ERR Error running script: attempt to compare nil with number",
            "WRONGTYPE Operation against a key holding the wrong kind of value",
            "ERR unknown command 'LOADINGX'",
        ] {
            assert!(matches!(StoreError::from(Error::new(ErrorKind::Unknown, bug)), StoreError::Unexpected(_)), "{bug}");
        }
    }
}
