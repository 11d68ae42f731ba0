//! Adds to the caller's balance, once per Idempotency-Key (POST /users/me/balance).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use serde::Deserialize;
use ticketing::api::ChargedBody;
use ticketing::domain::inputs::Amount;
use ticketing::http::{idempotency_key, json, mark_replayed, parse_json, HttpResult};
use ticketing::App;

#[derive(Deserialize)]
struct ChargeRequest {
    amount: i64,
}

pub async fn handle(app: &App, req: Request) -> HttpResult {
    let user = app.authenticate(&req)?;
    let key = idempotency_key(&req)?;
    let body: ChargeRequest = parse_json(&req)?;
    let amount = Amount::parse_charge(body.amount)?;
    let charged = app.store.users.charge(&user, amount, key.as_ref()).await?;
    let mut resp = json(200, &ChargedBody { user_id: &user, charged: amount.get(), balance: charged.balance });
    if charged.replayed {
        mark_replayed(&mut resp);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use serde_json::json;
    use ticketing::testing::{read, request, signed, TestApp};

    fn charge_request(user: &ticketing::testing::TestUser, amount: serde_json::Value, key: Option<&str>) -> Request {
        let mut req = signed(request(Method::POST, "/users/me/balance", Some(json!({ "amount": amount }))), user);
        if let Some(key) = key {
            req.headers_mut().insert("idempotency-key", key.parse().unwrap());
        }
        req
    }

    #[tokio::test]
    async fn charges_add_up() {
        let app = TestApp::spawn().await;
        let user = app.user().await;
        let (status, body) = read(handle(&app, charge_request(&user, json!(1_000), None)).await);
        assert_eq!((status, body["charged"].as_u64(), body["balance"].as_u64()), (200, Some(1_000), Some(1_000)));
        assert_eq!(body["userId"], user.id.as_str());
        let (status, body) = read(handle(&app, charge_request(&user, json!(500), None)).await);
        assert_eq!(status, 200);
        assert_eq!(body["balance"], 1_500);
    }

    #[tokio::test]
    async fn a_retry_with_the_same_key_charges_once() {
        let app = TestApp::spawn().await;
        let user = app.user().await;
        for _ in 0..3 {
            let resp = handle(&app, charge_request(&user, json!(700), Some("charge-1"))).await.unwrap();
            let (status, body) = read(resp);
            assert_eq!((status, body["balance"].as_u64()), (200, Some(700)));
        }
        let resp = handle(&app, charge_request(&user, json!(700), Some("charge-1"))).await.unwrap();
        assert_eq!(resp.headers()["idempotency-replayed"], "true");
        let (status, body) = read(handle(&app, charge_request(&user, json!(900), Some("charge-1"))).await);
        assert_eq!((status, body["code"].as_str().unwrap()), (422, "IDEMPOTENCY_KEY_REUSED"));
        assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 700);
    }

    #[tokio::test]
    async fn invalid_amounts_and_keys_are_refused_without_charging() {
        let app = TestApp::spawn().await;
        let user = app.user().await;
        for (amount, key, status, code) in [
            (json!(0), None, 422, "INVALID_AMOUNT"),
            (json!(-100), None, 422, "INVALID_AMOUNT"),
            (json!(10_000_001), None, 422, "INVALID_AMOUNT"),
            (json!(1.5), None, 400, "INVALID_BODY"),
            (json!("100"), None, 400, "INVALID_BODY"),
            (json!(100), Some("has spaces"), 400, "INVALID_IDEMPOTENCY_KEY"),
        ] {
            let (got, body) = read(handle(&app, charge_request(&user, amount.clone(), key)).await);
            assert_eq!((got, body["code"].as_str().unwrap()), (status, code), "{amount}");
        }
        assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 0);
        let anonymous = request(Method::POST, "/users/me/balance", Some(json!({"amount": 5})));
        let (status, body) = read(handle(&app, anonymous).await);
        assert_eq!((status, body["code"].as_str()), (401, Some("MISSING_TOKEN")));
        assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 0);
    }
}
