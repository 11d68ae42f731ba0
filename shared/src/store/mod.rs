//! The Redis store: the only code that talks to Redis.
//!
//! Every state change is one Lua script, loaded once per process and run with `EVALSHA`, over keys
//! that share one `{hash tag}`, so each script touches one cluster slot and the store runs
//! unchanged on Redis Cluster. [`keys`] lists the layout. Operations that must span two tags (a
//! payment touches the schedule and the user) are sequences of single-slot scripts whose order
//! keeps them correct; `booking.rs` explains the one that matters.
//!
//! - [`users`]: accounts and balances.
//! - [`queue`]: the waiting room (tickets, status, admission ticks) and the ACTIVE gate.
//! - [`catalog`]: concerts and schedules, created by operators.
//! - [`booking`]: seat maps, holds, payments and the sweeper of lapsed holds.
//! - [`outbox`]: the PaymentCompleted events waiting for Kafka, and the sales ledger they feed.

pub mod booking;
pub mod catalog;
pub mod keys;
pub mod outbox;
pub mod queue;
pub mod users;

use std::time::Duration;

use fred::prelude::*;
use fred::types::scripts::Script;

use crate::error::ApiError;
pub use keys::Keys;

/// The Lua scripts, compiled into the binary from `shared/lua/`.
pub(crate) struct Scripts {
    pub issue_ticket: Script,
    pub queue_status: Script,
    pub admission_tick: Script,
    pub charge_balance: Script,
    pub hold_seat: Script,
    pub claim_payment: Script,
    pub debit_payment: Script,
    pub void_payment: Script,
    pub settle_payment: Script,
    pub expire_holds: Script,
    pub apply_sale: Script,
}

impl Scripts {
    fn new() -> Self {
        macro_rules! lua {
            ($name:literal) => {
                Script::from_lua(include_str!(concat!("../../lua/", $name, ".lua")))
            };
        }
        Scripts {
            issue_ticket: lua!("issue_ticket"),
            queue_status: lua!("queue_status"),
            admission_tick: lua!("admission_tick"),
            charge_balance: lua!("charge_balance"),
            hold_seat: lua!("hold_seat"),
            claim_payment: lua!("claim_payment"),
            debit_payment: lua!("debit_payment"),
            void_payment: lua!("void_payment"),
            settle_payment: lua!("settle_payment"),
            expire_holds: lua!("expire_holds"),
            apply_sale: lua!("apply_sale"),
        }
    }

    fn all(&self) -> [&Script; 11] {
        [
            &self.issue_ticket,
            &self.queue_status,
            &self.admission_tick,
            &self.charge_balance,
            &self.hold_seat,
            &self.claim_payment,
            &self.debit_payment,
            &self.void_payment,
            &self.settle_payment,
            &self.expire_holds,
            &self.apply_sale,
        ]
    }
}

/// A pool of Redis connections plus the key layout and scripts. Cheap to share by reference;
/// build one per process.
pub struct RedisStore {
    pool: Pool,
    pub(crate) keys: Keys,
    pub(crate) scripts: Scripts,
}

impl RedisStore {
    /// Connects, and loads every script so the first request does not pay for it.
    pub async fn connect(url: &str, pool_size: usize, key_prefix: &str) -> Result<Self, ApiError> {
        let config = fred::types::config::Config::from_url(url)
            .map_err(|e| ApiError::Internal(format!("REDIS_URL: {e}")))?;
        let pool = Builder::from_config(config)
            .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(2))
            .with_connection_config(|c| c.connection_timeout = Duration::from_secs(2))
            .set_policy(ReconnectPolicy::new_exponential(0, 50, 2_000, 2))
            .build_pool(pool_size)
            .map_err(|e| ApiError::Internal(format!("redis client: {e}")))?;
        pool.init().await?;
        let store = RedisStore { pool, keys: Keys::new(key_prefix)?, scripts: Scripts::new() };
        for script in store.scripts.all() {
            script.load(store.client()).await?;
        }
        Ok(store)
    }

    /// One connection of the pool, round robin.
    pub(crate) fn client(&self) -> &Client {
        self.pool.next()
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }
}

/// Turns a script's `{'ERR', code}` answer into the API error for that code.
pub(crate) fn script_error(code: &str) -> ApiError {
    match code {
        "SCHEDULE_NOT_FOUND" => ApiError::not_found("SCHEDULE_NOT_FOUND", "no such schedule"),
        "SEAT_NOT_FOUND" => ApiError::not_found("SEAT_NOT_FOUND", "the schedule has no such seat"),
        "SEAT_TAKEN" => ApiError::conflict("SEAT_TAKEN", "the seat is held or sold"),
        "RESERVATION_NOT_FOUND" => {
            ApiError::not_found("RESERVATION_NOT_FOUND", "no such reservation for this user")
        }
        "HOLD_EXPIRED" => ApiError::conflict("HOLD_EXPIRED", "the hold has expired; hold the seat again"),
        other => ApiError::Internal(format!("unexpected script answer {other:?}")),
    }
}

/// Parses JSON a script stored or returned.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, ApiError> {
    serde_json::from_str(raw).map_err(|e| ApiError::Internal(format!("stored JSON: {e}: {raw}")))
}
