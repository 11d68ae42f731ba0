//! Request limits per client address, under the address's own tag `{rl:ADDRESS}`: a fixed window
//! counter per action, so free signup and queue entry cannot be flooded from one address. The
//! counters expire with their window.

use super::script::{lua_source, FromReply, LuaScript, Redis, Reply, Script};
use super::{Keys, Rejection, StoreResult};

/// What a limit counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Signup,
    JoinQueue,
}

impl Action {
    fn key_part(self) -> &'static str {
        match self {
            Action::Signup => "signup",
            Action::JoinQueue => "join",
        }
    }
}

/// How long one counting window lasts.
const WINDOW_MS: u64 = 60_000;

/// `rate_limit.lua`: counts one request of `address` doing `action` in the current window.
struct RateLimit<'a> {
    address: &'a str,
    action: Action,
    limit: u64,
}

impl Script for RateLimit<'_> {
    type Reply = LimitReply;
    const KEYS: &'static [&'static str] = &["counter_key"];
    const ARGS: &'static [&'static str] = &["limit", "window_ms"];
    lua_source!("rate_limit");

    fn keys(&self, k: &Keys) -> Vec<String> {
        vec![k.rate_limit(address_key(self.address), self.action.key_part())]
    }

    fn args(&self) -> Vec<String> {
        vec![self.limit.to_string(), WINDOW_MS.to_string()]
    }
}

/// `rate_limit.lua`'s answer.
enum LimitReply {
    Allowed,
    Over { retry_in_ms: u64 },
}

impl FromReply for LimitReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        let allowed = bool::from_reply(reply)?;
        let retry_in_ms = reply.number()?;
        Ok(if allowed { LimitReply::Allowed } else { LimitReply::Over { retry_in_ms } })
    }
}

pub struct LimitStore {
    redis: Redis,
}

/// A client address as a key part: what is not an IP address's characters counts as one unknown
/// client, so nothing else reaches a key name.
fn address_key(address: &str) -> &str {
    let ok = !address.is_empty() && address.len() <= 45 && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.' || b == b':');
    if ok {
        address
    } else {
        "unknown"
    }
}

impl LimitStore {
    pub(crate) fn new(redis: Redis) -> Self {
        LimitStore { redis }
    }

    pub(crate) fn scripts() -> Vec<&'static LuaScript> {
        vec![RateLimit::lua()]
    }

    /// Counts one `action` of `address`; refused with the time to wait once more than `limit`
    /// happened in the current minute. A limit of 0 is off.
    pub async fn check(&self, action: Action, address: &str, limit: u64) -> StoreResult<()> {
        if limit == 0 {
            return Ok(());
        }
        match self.redis.run(&RateLimit { address, action, limit }).await? {
            LimitReply::Allowed => Ok(()),
            LimitReply::Over { retry_in_ms } => {
                Err(Rejection::TooManyRequests { retry_after_secs: retry_in_ms.div_ceil(1000).max(1) }.into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_address_characters_reach_a_key() {
        assert_eq!(address_key("203.0.113.7"), "203.0.113.7");
        assert_eq!(address_key("2001:db8::1"), "2001:db8::1");
        assert_eq!(address_key("{x}:evil"), "unknown");
        assert_eq!(address_key(""), "unknown");
    }

    #[test]
    fn rate_limit_sends_what_its_script_binds() {
        super::super::script::assert_binds::<RateLimit>();
    }
}
