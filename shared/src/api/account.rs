//! Accounts: sign-up, balance, a charge.

use serde::Serialize;

use crate::domain::ids::UserId;

/// `POST /users` → 201.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedUpBody<'a> {
    pub user_id: &'a UserId,
    pub name: &'a str,
    pub balance: u64,
    pub access_token: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// `GET /users/me/balance`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceBody<'a> {
    pub user_id: &'a UserId,
    pub balance: u64,
}

/// `POST /users/me/balance`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChargedBody<'a> {
    pub user_id: &'a UserId,
    pub charged: u64,
    pub balance: u64,
}
