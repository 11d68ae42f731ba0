//! Accounts and prepaid balances, all under the user's own tag `{u:ID}`.

use fred::prelude::*;

use super::{from_json, RedisStore};
use crate::domain::ids::UserId;
use crate::domain::inputs::{Amount, IdempotencyKey, UserName};
use crate::domain::models::{Payment, ReservationRecord};
use crate::error::ApiError;

/// No balance may exceed this; it keeps every sum exact in Lua's doubles.
pub const MAX_BALANCE: u64 = 1_000_000_000_000;

#[derive(Debug, PartialEq, Eq)]
pub struct Charged {
    pub balance: u64,
    /// True when an earlier request with the same `Idempotency-Key` already charged.
    pub replayed: bool,
}

fn user_not_found() -> ApiError {
    ApiError::not_found("USER_NOT_FOUND", "the account of this token no longer exists")
}

impl RedisStore {
    pub async fn create_user(&self, user: &UserId, name: &UserName, now_ms: u64) -> Result<(), ApiError> {
        let fields = [("name", name.as_str().to_owned()), ("balance", "0".into()), ("createdAt", now_ms.to_string())];
        self.client().hset::<(), _, _>(self.keys.user(user, "profile"), fields.to_vec()).await?;
        Ok(())
    }

    pub async fn balance(&self, user: &UserId) -> Result<u64, ApiError> {
        let balance: Option<u64> = self.client().hget(self.keys.user(user, "profile"), "balance").await?;
        balance.ok_or_else(user_not_found)
    }

    /// Adds `amount`. With a key, a repeated request returns the first result and charges nothing;
    /// the same key with another amount is refused.
    pub async fn charge(&self, user: &UserId, amount: Amount, key: Option<&IdempotencyKey>) -> Result<Charged, ApiError> {
        let field = key.map(|k| format!("charge:{}", k.as_str())).unwrap_or_default();
        let keys = vec![self.keys.user(user, "profile"), self.keys.user(user, "idempotency")];
        let args = vec![amount.get().to_string(), field, MAX_BALANCE.to_string()];
        let answer: Vec<String> = self.scripts.charge_balance.evalsha_with_reload(self.client(), keys, args).await?;
        match answer.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["OK", balance] => Ok(Charged { balance: parse_u64(balance)?, replayed: false }),
            ["REPLAY", previous] => {
                let (first_amount, balance) = previous.split_once('|').unwrap_or(("", ""));
                if first_amount != amount.get().to_string() {
                    return Err(ApiError::unprocessable(
                        "IDEMPOTENCY_KEY_REUSED",
                        "this Idempotency-Key was used for a different request",
                    ));
                }
                Ok(Charged { balance: parse_u64(balance)?, replayed: true })
            }
            ["LIMIT", _] => Err(ApiError::unprocessable(
                "BALANCE_LIMIT",
                format!("a balance may not exceed {MAX_BALANCE}"),
            )),
            ["NO_USER"] => Err(user_not_found()),
            other => Err(ApiError::Internal(format!("charge_balance answered {other:?}"))),
        }
    }

    /// The user's holds and purchases, newest first. Two round trips: the user's index, then
    /// every reservation it names (a pipeline across the schedules' tags).
    pub async fn reservations_of(&self, user: &UserId, now_ms: u64) -> Result<Vec<crate::domain::models::Reservation>, ApiError> {
        let index: Vec<(String, String)> =
            self.client().hgetall::<std::collections::HashMap<String, String>, _>(self.keys.user(user, "reservations")).await?.into_iter().collect();
        if index.is_empty() {
            return Ok(Vec::new());
        }
        let pipe = self.client().pipeline();
        for (reservation, schedule) in &index {
            pipe.hget::<(), _, _>(self.keys.schedule_by_id(schedule, "reservations"), reservation).await?;
        }
        let raws: Vec<Option<String>> = pipe.all().await?;
        let mut records = Vec::with_capacity(raws.len());
        for raw in raws.into_iter().flatten() {
            let record: ReservationRecord = from_json(&raw)?;
            // The index is written before the hold; a hold that then failed leaves no record.
            if record.user_id == user.as_str() {
                records.push(record);
            }
        }
        records.sort_by(|a, b| b.held_at.cmp(&a.held_at));
        Ok(records.iter().map(|r| r.view(now_ms)).collect())
    }

    /// A completed payment of the user, if the reservation was paid.
    pub(crate) fn parse_payment(raw: Option<String>) -> Result<Option<Payment>, ApiError> {
        match raw.as_deref() {
            None | Some("VOID") => Ok(None),
            Some(json) => from_json(json).map(Some),
        }
    }
}

pub(crate) fn parse_u64(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| ApiError::Internal(format!("expected a number, got {raw:?}")))
}
