//! Accounts and prepaid balances, all under the user's own tag `{u:ID}`.

use std::collections::HashMap;

use fred::prelude::*;

use super::script::{from_json, lua_source, parse_id, parse_u64, FromReply, LuaScript, Redis, Reply, Script};
use super::Keys;
use super::{Rejection, StoreResult};
use crate::domain::ids::{ReservationId, ScheduleId, UserId};
use crate::domain::inputs::{Amount, IdempotencyKey, UserName};
use crate::domain::models::ReservationRecord;

/// No balance may exceed this; it keeps every sum exact in Lua's doubles.
pub const MAX_BALANCE: u64 = 1_000_000_000_000;

#[derive(Debug, PartialEq, Eq)]
pub struct Charged {
    pub balance: u64,
    /// True when an earlier request with the same `Idempotency-Key` already charged.
    pub replayed: bool,
}

/// `charge_balance.lua`: adds `amount` to the balance once per `request`, and once per
/// idempotency key when the client sent one.
pub(crate) struct ChargeBalance<'a> {
    pub user: &'a UserId,
    pub amount: Amount,
    pub key: Option<&'a IdempotencyKey>,
    /// This request's own id: the script run again with it (a resent command) charges nothing more.
    pub request: &'a str,
}

impl Script for ChargeBalance<'_> {
    type Reply = ChargeReply;
    const KEYS: &'static [&'static str] = &["profile_key", "idempotency_key", "request_key"];
    const ARGS: &'static [&'static str] = &["amount_text", "idempotency_field", "max_balance"];
    lua_source!("charge_balance");

    fn keys(&self, k: &Keys) -> Vec<String> {
        vec![k.user_profile(self.user), k.user_idempotency(self.user), k.user_request(self.user, self.request)]
    }

    fn args(&self) -> Vec<String> {
        let field = self.key.map(|k| format!("charge:{}", k.as_str())).unwrap_or_default();
        vec![self.amount.get().to_string(), field, MAX_BALANCE.to_string()]
    }
}

/// `charge_balance.lua`'s answer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ChargeReply {
    Charged {
        balance: u64,
    },
    /// The key was used before: the first request's amount and resulting balance.
    Replay {
        amount: u64,
        balance: u64,
    },
    NoUser,
    Limit,
}

impl FromReply for ChargeReply {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "OK" => ChargeReply::Charged { balance: reply.number()? },
            "REPLAY" => {
                let previous = reply.text()?;
                let (amount, balance) = previous.split_once('|').ok_or_else(|| reply.unexpected())?;
                ChargeReply::Replay { amount: parse_u64(amount)?, balance: parse_u64(balance)? }
            }
            "NO_USER" => ChargeReply::NoUser,
            "LIMIT" => {
                reply.number()?;
                ChargeReply::Limit
            }
            _ => return Err(reply.unexpected()),
        })
    }
}

pub struct UserStore {
    redis: Redis,
}

impl UserStore {
    pub(crate) fn new(redis: Redis) -> Self {
        UserStore { redis }
    }

    pub(crate) fn scripts() -> Vec<&'static LuaScript> {
        vec![ChargeBalance::lua()]
    }

    pub async fn create(&self, user: &UserId, name: &UserName, now_ms: u64) -> StoreResult<()> {
        let fields = vec![("name", name.as_str().to_owned()), ("balance", "0".into()), ("createdAt", now_ms.to_string())];
        self.redis.client().hset::<(), _, _>(self.redis.keys.user_profile(user), fields).await?;
        Ok(())
    }

    pub async fn balance(&self, user: &UserId) -> StoreResult<u64> {
        let balance: Option<u64> = self.redis.client().hget(self.redis.keys.user_profile(user), "balance").await?;
        Ok(balance.ok_or(Rejection::UserNotFound)?)
    }

    /// Adds `amount`. With a key, a repeated request returns the first result and charges nothing;
    /// the same key with another amount is refused.
    pub async fn charge(&self, user: &UserId, amount: Amount, key: Option<&IdempotencyKey>) -> StoreResult<Charged> {
        let request = format!("{:032x}", rand::random::<u128>());
        match self.redis.run(&ChargeBalance { user, amount, key, request: &request }).await? {
            ChargeReply::Charged { balance } => Ok(Charged { balance, replayed: false }),
            ChargeReply::Replay { amount: first, balance } if first == amount.get() => Ok(Charged { balance, replayed: true }),
            ChargeReply::Replay { .. } => Err(Rejection::IdempotencyKeyReused.into()),
            ChargeReply::Limit => Err(Rejection::BalanceLimit { max: MAX_BALANCE }.into()),
            ChargeReply::NoUser => Err(Rejection::UserNotFound.into()),
        }
    }

    /// The user's holds and purchases, newest first. Two round trips: the user's index, then
    /// every reservation it names (a pipeline across the schedules' tags).
    pub async fn reservations(&self, user: &UserId) -> StoreResult<Vec<ReservationRecord>> {
        let keys = &self.redis.keys;
        let index: HashMap<String, String> = self.redis.client().hgetall(keys.user_reservations(user)).await?;
        if index.is_empty() {
            return Ok(Vec::new());
        }
        let index: Vec<(ReservationId, ScheduleId)> =
            index.into_iter().map(|(r, s)| Ok((parse_id(&r)?, parse_id(&s)?))).collect::<StoreResult<_>>()?;
        let pipe = self.redis.client().pipeline();
        for (reservation, schedule) in &index {
            pipe.hget::<(), _, _>(keys.schedule_reservations(schedule), reservation.as_str()).await?;
        }
        let raws: Vec<Option<String>> = pipe.all().await?;
        // Records forgotten after the retention (holds that ended unpaid) leave the index too.
        let forgotten: Vec<&str> = index.iter().zip(&raws).filter(|(_, raw)| raw.is_none()).map(|((r, _), _)| r.as_str()).collect();
        if !forgotten.is_empty() {
            self.redis.client().hdel::<(), _, _>(keys.user_reservations(user), forgotten).await?;
        }
        let mut records = Vec::with_capacity(raws.len());
        for raw in raws.into_iter().flatten() {
            let record: ReservationRecord = from_json(&raw)?;
            // The index is written before the hold; a hold that then failed leaves no record.
            if &record.user_id == user {
                records.push(record);
            }
        }
        records.sort_by_key(|r| std::cmp::Reverse(r.held_at));
        Ok(records)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charge_balance_sends_what_its_script_binds() {
        super::super::script::assert_binds::<ChargeBalance>();
    }
}
