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
//! - [`queue`]: the waiting rooms, one per concert (`{r:ID}`: places, status, admission ticks,
//!   operator settings) with the list of live rooms (`{rooms}`), and the ACTIVE gate.
//! - [`catalog`]: concerts and schedules, created by operators (`{catalog}`, schedule metas).
//! - [`booking`]: seat maps, holds, payments and the sweeper of lapsed holds (`{s:ID}` and the
//!   user's payments).
//! - [`outbox`]: the PaymentCompleted events waiting for Kafka, and the sales ledger they feed.
//! - [`limits`]: requests per client address per minute (`{rl:ADDRESS}`).
//! - [`script`]: the connection, the script runner and the reply decoder they all share.
//!
//! Errors: a request the rules refuse is a [`Rejection`]; a store that cannot be reached is
//! [`StoreError::Unavailable`]; anything else is unexpected. `error.rs` maps them for clients.

pub mod booking;
pub mod catalog;
pub mod keys;
pub mod limits;
pub mod outbox;
pub mod queue;
pub mod script;
pub mod users;

pub use keys::Keys;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::domain::ids::{ConcertId, ScheduleId};
use crate::domain::inputs::SaleTimes;
use crate::domain::models::{rfc3339, Concert, SaleWindow};
use crate::domain::queue::{RoomState, RoomStatus};
use queue::{Admission, RoomReport, TickReport};
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

/// Every store, each owning its keys and scripts, over one connection pool. Build one per process.
pub struct Store {
    /// The public catalog as this process last read it (see [`Store::public_concerts_cached`]).
    catalog_cache: CatalogCache,
    /// The pool the stores share, for [`Store::probe`].
    redis: Redis,
    pub users: users::UserStore,
    pub queue: queue::QueueStore,
    pub catalog: catalog::CatalogStore,
    pub booking: booking::BookingStore,
    pub outbox: outbox::OutboxStore,
    pub limits: limits::LimitStore,
}

impl Store {
    /// Connects to `url` (TLS for `rediss` URLs, trusting the system's roots and `ca_file`), and
    /// loads every script so the first request does not pay for it.
    pub async fn connect(url: &str, ca_file: Option<&str>, pool_size: usize, key_prefix: &str, retention: Duration) -> StoreResult<Self> {
        let redis = Redis::connect(url, ca_file, pool_size, Keys::new(key_prefix)?).await?;
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
        };
        for script in store.scripts() {
            redis.load(script).await?;
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

    fn scripts(&self) -> Vec<&script::LuaScript> {
        [self.users.scripts(), self.queue.scripts(), self.booking.scripts(), self.outbox.scripts(), self.limits.scripts()].concat()
    }
}

/// The last public catalog read, with when. A plain lock, never held across an await: two
/// requests that find it stale at once both read Redis, which is cheaper than making the others
/// wait for one read.
#[derive(Default)]
struct CatalogCache {
    ttl_ms: u64,
    last: RwLock<Option<(u64, Arc<Vec<Concert>>)>>,
}

impl CatalogCache {
    fn fresh(&self, now_ms: u64) -> Option<Arc<Vec<Concert>>> {
        let last = self.last.read().unwrap_or_else(|e| e.into_inner());
        last.as_ref().filter(|(read_at, _)| now_ms < read_at + self.ttl_ms).map(|(_, concerts)| concerts.clone())
    }

    fn keep(&self, now_ms: u64, concerts: Arc<Vec<Concert>>) {
        if self.ttl_ms > 0 {
            *self.last.write().unwrap_or_else(|e| e.into_inner()) = Some((now_ms, concerts));
        }
    }
}

/// What one round of admission over every live room did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RoomsTick {
    pub rooms: u64,
    pub admitted: u64,
    pub sold_out: u64,
    /// Rooms with nobody left in them, taken off the live list.
    pub retired: u64,
}

/// Operations that read one aggregate to act on another.
impl Store {
    /// Creates a concert and its waiting room. The room first: a visible concert always has one.
    pub async fn create_concert(&self, concert: &Concert, sale: SaleTimes) -> StoreResult<()> {
        self.queue.open_room(&concert.concert_id, sale).await?;
        self.catalog.create(concert).await
    }

    /// Concerts as the public catalog shows them: each with its room's state, its current sale
    /// times and each schedule's available seats.
    pub async fn public_concerts(&self, now_ms: u64) -> StoreResult<Vec<Concert>> {
        let mut concerts = self.catalog.concerts().await?;
        self.describe(&mut concerts, now_ms).await?;
        Ok(concerts)
    }

    /// The public catalog, read from Redis at most once per cache period per process: in steady
    /// state a crowd reading it costs no Redis call per request. What it shows (available seats,
    /// the room's status) may be one period old, as a CDN's copy of it is anyway.
    pub async fn public_concerts_cached(&self, now_ms: u64) -> StoreResult<Arc<Vec<Concert>>> {
        if let Some(concerts) = self.catalog_cache.fresh(now_ms) {
            return Ok(concerts);
        }
        let concerts = Arc::new(self.public_concerts(now_ms).await?);
        self.catalog_cache.keep(now_ms, concerts.clone());
        Ok(concerts)
    }

    /// One concert of the public catalog, from the cached catalog when it holds it (see
    /// [`Store::public_concerts_cached`]).
    pub async fn public_concert_cached(&self, concert: &ConcertId, now_ms: u64) -> StoreResult<Concert> {
        let cached = self.catalog_cache.fresh(now_ms).and_then(|all| all.iter().find(|c| &c.concert_id == concert).cloned());
        match cached {
            Some(concert) => Ok(concert),
            None => self.public_concert(concert, now_ms).await,
        }
    }

    /// A room's public state (see [`RoomState`]): its status and opening time from the cached
    /// catalog; its line and its own `admitPerTick` (else `defaults`', giving the pace) from Redis
    /// in one round trip.
    pub async fn public_room(
        &self,
        concert: &ConcertId,
        now_ms: u64,
        heartbeat_seconds: u64,
        defaults: Admission,
    ) -> StoreResult<RoomState> {
        let (described, line) = tokio::try_join!(self.public_concert_cached(concert, now_ms), self.queue.line(concert))?;
        let per_tick = line.admit_per_tick.unwrap_or(defaults.admit_per_tick);
        Ok(RoomState {
            concert_id: concert.clone(),
            status: described.room_status.unwrap_or(RoomStatus::Closed),
            admitted_total: line.admitted_total,
            admitted_per_second: line.admitted_per_second,
            admission_pace_per_second: per_tick as f64 * 1000.0 / defaults.tick_ms.max(1) as f64,
            waiting: line.waiting,
            opens_at: described.sale.opens_at,
            heartbeat_seconds,
            read_at: rfc3339(now_ms),
        })
    }

    /// One concert as the public catalog shows it.
    pub async fn public_concert(&self, concert: &ConcertId, now_ms: u64) -> StoreResult<Concert> {
        let mut concerts = vec![self.catalog.concert(concert).await?];
        self.describe(&mut concerts, now_ms).await?;
        Ok(concerts.remove(0))
    }

    async fn describe(&self, concerts: &mut [Concert], now_ms: u64) -> StoreResult<()> {
        let ids: Vec<&ConcertId> = concerts.iter().map(|c| &c.concert_id).collect();
        let settings = self.queue.settings(&ids).await?;
        for (concert, settings) in concerts.iter_mut().zip(settings) {
            if let Some(s) = settings {
                concert.room_status = Some(s.status(now_ms, concert.last_start_ms()));
                concert.sale = SaleWindow { prequeue_opens_at: rfc3339(s.prequeue_opens_at_ms), opens_at: rfc3339(s.opens_at_ms) };
            }
        }
        self.catalog.add_availability(concerts, now_ms).await
    }

    /// Everything an operator watches of one room: its state, settings (the room's own or the
    /// environment's), line, admission rate, seats and recent changes.
    pub async fn room_report(&self, concert: &ConcertId, now_ms: u64, defaults: Admission) -> StoreResult<RoomReport> {
        let c = self.catalog.concert(concert).await?;
        let schedules: Vec<ScheduleId> = c.schedules.iter().map(|s| s.schedule_id.clone()).collect();
        let (snapshot, inventory) = tokio::try_join!(self.queue.snapshot(concert, now_ms), self.booking.inventory(&schedules, now_ms))?;
        Ok(RoomReport::new(&c, snapshot, inventory, now_ms, defaults))
    }

    /// One admission tick of one room, with the concert's inventory read just before.
    pub async fn tick_room(&self, concert: &ConcertId, tick: u64, now_ms: u64, admission: Admission) -> StoreResult<TickReport> {
        let schedules: Vec<ScheduleId> = self.catalog.concert(concert).await?.schedules.into_iter().map(|s| s.schedule_id).collect();
        let inventory = self.booking.inventory(&schedules, now_ms).await?;
        self.queue.tick(concert, tick, now_ms, admission, inventory).await
    }

    /// One admission tick of every room with fans in it; rooms left empty are retired.
    pub async fn tick_live_rooms(&self, tick: u64, now_ms: u64, admission: Admission) -> StoreResult<RoomsTick> {
        let mut total = RoomsTick::default();
        for concert in self.queue.live_rooms().await? {
            let report = match self.tick_room(&concert, tick, now_ms, admission).await {
                Err(StoreError::Rejected(Rejection::ConcertNotFound)) => {
                    self.queue.retire_if_empty(&concert).await?;
                    continue;
                }
                other => other?,
            };
            total.rooms += 1;
            total.admitted += report.admitted;
            total.sold_out += report.sold_out_now as u64;
            if report.ran && report.still_waiting == 0 && report.active == 0 && self.queue.retire_if_empty(&concert).await? {
                total.retired += 1;
            }
        }
        Ok(total)
    }

    /// Releases the lapsed holds of every schedule in the catalog: the sweeper's full round, once
    /// an invocation (a minute), which also heals its list of schedules with holds.
    pub async fn sweep_all(&self, now_ms: u64) -> StoreResult<booking::SweepReport> {
        self.booking.sweep(&self.catalog.schedule_ids().await?, now_ms).await
    }

    /// Releases the lapsed holds of the schedules that have holds: the sweeper's every-second
    /// round, whose cost follows live holds, not schedules ever created.
    pub async fn sweep_live(&self, now_ms: u64) -> StoreResult<booking::SweepReport> {
        self.booking.sweep(&self.booking.holding_schedules().await?, now_ms).await
    }

    /// The sales ledger of every schedule in the catalog.
    pub async fn sales(&self) -> StoreResult<Vec<outbox::ScheduleSales>> {
        let concerts = self.catalog.concerts().await?;
        self.outbox.sales(&concerts).await
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
