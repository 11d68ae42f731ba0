//! Returns the caller's balance (GET /users/me/balance).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::api::BalanceBody;
use ticketing::http::{json, HttpResult};
use ticketing::App;

pub async fn handle(app: &App, req: Request) -> HttpResult {
    let user = app.authenticate(&req)?;
    let balance = app.store.users.balance(&user).await?;
    Ok(json(200, &BalanceBody { user_id: &user, balance }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use ticketing::testing::{read, request, signed, TestApp};

    #[tokio::test]
    async fn returns_the_callers_balance() {
        let app = TestApp::spawn().await;
        let user = app.admitted_user(12_345).await;
        let (status, body) = read(handle(&app, signed(request(Method::GET, "/users/me/balance", None), &user)).await);
        assert_eq!(status, 200);
        assert_eq!(body["balance"], 12_345);
        assert_eq!(body["userId"], user.id.as_str());
    }

    #[tokio::test]
    async fn missing_forged_or_expired_tokens_get_401() {
        let app = TestApp::spawn().await;
        let user = app.user().await;
        let expired = app.signer().unwrap().access_token(&user.id, 1);
        for (auth, code) in [
            (None, "MISSING_TOKEN"),
            (Some("Bearer nonsense".to_string()), "INVALID_TOKEN"),
            (Some(format!("Bearer {}x", user.access_token)), "INVALID_TOKEN"),
            (Some(format!("Bearer {expired}")), "TOKEN_EXPIRED"),
        ] {
            let mut req = request(Method::GET, "/users/me/balance", None);
            if let Some(auth) = auth {
                req.headers_mut().insert("authorization", auth.parse().unwrap());
            }
            let (status, body) = read(handle(&app, req).await);
            assert_eq!((status, body["code"].as_str().unwrap()), (401, code));
        }
    }
}
