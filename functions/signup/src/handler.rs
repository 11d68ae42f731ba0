//! Creates a user with balance 0 and returns a signed access token (POST /users).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use serde::Deserialize;
use ticketing::api::SignedUpBody;
use ticketing::domain::ids::UserId;
use ticketing::domain::inputs::UserName;
use ticketing::domain::models::rfc3339;
use ticketing::domain::now_ms;
use ticketing::http::{client_address, json, parse_json, HttpResult};
use ticketing::store::limits::Action;
use ticketing::App;

#[derive(Deserialize)]
struct SignupRequest {
    name: String,
}

pub async fn handle(app: &App, req: Request) -> HttpResult {
    let body: SignupRequest = parse_json(&req)?;
    let name = UserName::parse(&body.name)?;
    app.store.limits.check(Action::Signup, &client_address(&req), app.config.limits.signups_per_minute).await?;
    let user = UserId::random();
    let now = now_ms();
    app.store.users.create(&user, &name, now).await?;
    let expires_at = now / 1000 + app.config.auth.access_token_ttl.as_secs();
    Ok(json(
        201,
        &SignedUpBody {
            user_id: &user,
            name: name.as_str(),
            balance: 0,
            access_token: app.signer()?.access_token(&user, expires_at),
            expires_at: rfc3339(expires_at * 1000),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use serde_json::json;
    use ticketing::testing::{from_address, read, request, response, TestApp};

    #[tokio::test]
    async fn signs_up_with_a_zero_balance_and_a_working_token() {
        let app = TestApp::spawn().await;
        let (status, body) = read(handle(&app, request(Method::POST, "/users", Some(json!({"name": " Kim "})))).await);
        assert_eq!(status, 201);
        assert_eq!(body["name"], "Kim");
        assert_eq!(body["balance"], 0);
        let user = app.signer().unwrap().verify_access(body["accessToken"].as_str().unwrap(), now_ms() / 1000).unwrap();
        assert_eq!(body["userId"], user.as_str());
        assert_eq!(app.store.users.balance(&user).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn bad_bodies_get_clear_errors_and_create_nothing() {
        let app = TestApp::spawn().await;
        for (body, status, code) in [
            (None, 400, "INVALID_BODY"),
            (Some(json!("just a string")), 400, "INVALID_BODY"),
            (Some(json!({"nom": "Kim"})), 400, "INVALID_BODY"),
            (Some(json!({"name": 7})), 400, "INVALID_BODY"),
            (Some(json!({"name": "   "})), 422, "INVALID_NAME"),
        ] {
            let resp = response(handle(&app, request(Method::POST, "/users", body.clone())).await);
            assert_eq!(resp.headers()["content-type"], "application/problem+json");
            let (got, problem) = read(resp);
            assert_eq!((got, problem["code"].as_str().unwrap()), (status, code), "{body:?}");
        }
    }

    #[tokio::test]
    async fn one_address_signs_up_a_few_times_a_minute_then_gets_429() {
        let app = TestApp::spawn_with(|c| c.limits.signups_per_minute = 2).await;
        let signup = |address: &str| from_address(request(Method::POST, "/users", Some(json!({"name": "Bot"}))), address);
        for _ in 0..2 {
            assert_eq!(read(handle(&app, signup("203.0.113.7")).await).0, 201);
        }
        let resp = response(handle(&app, signup("203.0.113.7")).await);
        let retry: u64 = resp.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        let (status, body) = read(resp);
        assert_eq!((status, body["code"].as_str()), (429, Some("TOO_MANY_REQUESTS")));
        assert_eq!(read(handle(&app, signup("198.51.100.9")).await).0, 201, "another address is not held back");
    }

    #[tokio::test]
    async fn a_real_api_gateway_payload_is_understood() {
        let app = TestApp::spawn().await;
        let event = include_str!("../../../local/events/signup.json");
        let req = lambda_http::request::from_str(event).expect("an API Gateway v2 event");
        let (status, body) = read(handle(&app, req).await);
        assert_eq!((status, body["name"].as_str(), body["balance"].as_u64()), (201, Some("Kim"), Some(0)), "{body}");
        let user = ticketing::domain::ids::UserId::parse(body["userId"].as_str().unwrap()).unwrap();
        assert_eq!(app.store.users.balance(&user).await.unwrap(), 0, "the user was stored");
    }
}
