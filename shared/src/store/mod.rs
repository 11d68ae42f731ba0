//! The Redis store: the only code that talks to Redis, as one narrow store per aggregate over one
//! shared connection pool.
//!
//! Every state change is one Lua script, loaded once per process and run with `EVALSHA` through
//! [`script::Redis::run`], which decodes the script's one typed reply. The keys a script touches
//! share one `{hash tag}`, so each script touches one cluster slot and the store runs unchanged on
//! Redis Cluster. [`keys`] lists the layout. Operations that must span two tags (a payment touches
//! the schedule and the user) are sequences of single-slot scripts whose order keeps them correct;
//! `booking.rs` explains the one that matters.
//!
//! - [`users`]: accounts and balances (`{u:ID}`).
//! - [`queue`]: the waiting room (tickets, status, admission ticks) and the ACTIVE gate (`{q}`).
//! - [`catalog`]: concerts and schedules, created by operators (`{catalog}`, schedule metas).
//! - [`booking`]: seat maps, holds, payments and the sweeper of lapsed holds (`{s:ID}` and the
//!   user's payments).
//! - [`outbox`]: the PaymentCompleted events waiting for Kafka, and the sales ledger they feed.
//! - [`script`]: the connection, the script runner and the reply decoder they all share.
//!
//! Errors: a request the rules refuse is a [`Rejection`]; a store that cannot be reached is
//! [`StoreError::Unavailable`]; anything else is unexpected. `error.rs` maps them for clients.

pub mod booking;
pub mod catalog;
pub mod keys;
pub mod outbox;
pub mod queue;
pub mod script;
pub mod users;

pub use keys::Keys;

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

impl From<fred::error::Error> for StoreError {
    fn from(err: fred::error::Error) -> Self {
        use fred::error::ErrorKind;
        match err.kind() {
            ErrorKind::IO | ErrorKind::Timeout | ErrorKind::Canceled | ErrorKind::Backpressure => StoreError::Unavailable(err.to_string()),
            _ => StoreError::Unexpected(format!("redis: {err}")),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Every store, each owning its keys and scripts, over one connection pool. Build one per process.
pub struct Store {
    pub users: users::UserStore,
    pub queue: queue::QueueStore,
    pub catalog: catalog::CatalogStore,
    pub booking: booking::BookingStore,
    pub outbox: outbox::OutboxStore,
}

impl Store {
    /// Connects, and loads every script so the first request does not pay for it.
    pub async fn connect(url: &str, pool_size: usize, key_prefix: &str) -> StoreResult<Self> {
        let redis = Redis::connect(url, pool_size, Keys::new(key_prefix)?).await?;
        let store = Store {
            users: users::UserStore::new(redis.clone()),
            queue: queue::QueueStore::new(redis.clone()),
            catalog: catalog::CatalogStore::new(redis.clone()),
            booking: booking::BookingStore::new(redis.clone()),
            outbox: outbox::OutboxStore::new(redis.clone()),
        };
        for script in store.scripts() {
            redis.load(script).await?;
        }
        Ok(store)
    }

    fn scripts(&self) -> Vec<&script::LuaScript> {
        [self.users.scripts(), self.queue.scripts(), self.booking.scripts(), self.outbox.scripts()].concat()
    }
}

/// Operations that read one aggregate to act on another.
impl Store {
    /// Releases the lapsed holds of every schedule in the catalog.
    pub async fn sweep_all(&self, now_ms: u64) -> StoreResult<booking::SweepReport> {
        let schedules = self.catalog.schedule_ids().await?;
        self.booking.sweep(&schedules, now_ms).await
    }

    /// The sales ledger of every schedule in the catalog.
    pub async fn sales(&self) -> StoreResult<Vec<outbox::ScheduleSales>> {
        let concerts = self.catalog.concerts().await?;
        self.outbox.sales(&concerts).await
    }
}
