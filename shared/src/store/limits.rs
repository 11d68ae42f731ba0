//! Request limits per client address, under the address's own tag `{rl:ADDRESS}`: a fixed window
//! counter per action, so free signup and queue entry cannot be flooded from one address. The
//! counters expire with their window.

use super::script::{lua, FromReply, LuaScript, Redis, Reply};
use super::{Rejection, StoreResult};

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
    rate_limit: LuaScript,
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
        LimitStore { redis, rate_limit: lua!("rate_limit") }
    }

    pub(crate) fn scripts(&self) -> Vec<&LuaScript> {
        vec![&self.rate_limit]
    }

    /// Counts one `action` of `address`; refused with the time to wait once more than `limit`
    /// happened in the current minute. A limit of 0 is off.
    pub async fn check(&self, action: Action, address: &str, limit: u64) -> StoreResult<()> {
        if limit == 0 {
            return Ok(());
        }
        let key = self.redis.keys.rate_limit(address_key(address), action.key_part());
        match self.redis.run(&self.rate_limit, vec![key], vec![limit.to_string(), "60000".into()]).await? {
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
}
