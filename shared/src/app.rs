//! The clients and settings a function builds once per process and hands to its handler.

use crate::config::Config;
use crate::domain::tokens::TokenSigner;
use crate::error::ApiError;
use crate::store::queue::Admission;
use crate::store::RedisStore;

pub struct App {
    pub config: Config,
    pub store: RedisStore,
    pub signer: TokenSigner,
}

impl App {
    /// Reads the environment and connects to Redis. Errors name what is wrong, so a broken
    /// deployment fails at cold start with a readable message.
    pub async fn from_env() -> Result<Self, lambda_http::Error> {
        let config = Config::from_env()?;
        Ok(Self::new(config).await.map_err(|e| format!("cannot start: {e}"))?)
    }

    pub async fn new(config: Config) -> Result<Self, ApiError> {
        let store = RedisStore::connect(&config.redis_url, config.redis_pool_size, &config.key_prefix).await?;
        let signer = TokenSigner::new(&config.auth_secret);
        Ok(App { config, store, signer })
    }

    /// The admission settings of one waiting-room tick.
    pub fn admission(&self) -> Admission {
        Admission {
            admit_per_tick: self.config.admit_per_tick,
            active_cap: self.config.active_cap,
            active_ttl_ms: self.config.active_ttl.as_millis() as u64,
            wait_idle_ms: self.config.wait_idle.as_millis() as u64,
            tick_ms: self.config.tick.as_millis() as u64,
        }
    }
}
