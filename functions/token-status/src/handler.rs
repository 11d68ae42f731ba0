//! Reports a queue token's status, position and ETA (GET /queue/tokens/current).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::api::queue_status;
use ticketing::app::QUEUE_TOKEN_HEADER;
use ticketing::domain::now_ms;
use ticketing::http::{header, HttpResult};
use ticketing::App;

/// PREQUEUE (with the opening time), WAITING (position, ETA, the room paused or open), ACTIVE,
/// SOLD_OUT or EXPIRED, with a `Retry-After` while there is reason to ask again.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    let user = app.authenticate(&req)?;
    let ticket = app.queue_ticket(&req, &user)?;
    let now = now_ms();
    let position = app.store.queue.position(&ticket, now).await?;
    let token = header(&req, QUEUE_TOKEN_HEADER).unwrap_or_default().trim();
    Ok(queue_status(200, token, &ticket.concert, &position, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use ticketing::testing::{read, request, signed, TestApp, TestUser};

    async fn waiting_user(app: &TestApp) -> TestUser {
        app.waiting_user(0).await
    }

    fn status_request(user: &TestUser) -> Request {
        signed(request(Method::GET, "/queue/tokens/current", None), user)
    }

    #[tokio::test]
    async fn waiting_then_active_then_expired() {
        let app = TestApp::spawn_with(|c| c.admission.admit_per_tick = 1).await;
        app.concert(10, 1_000).await;
        let first = waiting_user(&app).await;
        let second = waiting_user(&app).await;
        let resp = handle(&app, status_request(&second)).await.unwrap();
        assert!(resp.headers().contains_key("retry-after"));
        let (status, body) = read(resp);
        assert_eq!((status, body["status"].as_str(), body["position"].as_u64()), (200, Some("WAITING"), Some(2)));

        app.admit_waiting().await;
        let (_, body) = read(handle(&app, status_request(&first)).await);
        assert_eq!(body["status"], "ACTIVE");
        assert!(body["expiresAt"].is_string());
        let (_, body) = read(handle(&app, status_request(&second)).await);
        assert_eq!((body["status"].as_str(), body["position"].as_u64()), (Some("WAITING"), Some(1)));
        // One tick with someone still waiting: the rate is observed, so there is an ETA.
        assert_eq!(body["etaSeconds"], 1);
    }

    #[tokio::test]
    async fn another_users_or_a_forged_queue_token_gets_401() {
        let app = TestApp::spawn().await;
        let owner = waiting_user(&app).await;
        let mut other = app.user().await;
        other.queue_token = owner.queue_token.clone();
        let (status, body) = read(handle(&app, status_request(&other)).await);
        assert_eq!((status, body["code"].as_str().unwrap()), (401, "INVALID_QUEUE_TOKEN"));
        let mut forged = waiting_user(&app).await;
        // Move the ticket to the front of the line: the signature no longer matches.
        let mut parts: Vec<String> = forged.queue_token.unwrap().split('.').map(String::from).collect();
        parts[3] = "0".into();
        forged.queue_token = Some(parts.join("."));
        let (status, body) = read(handle(&app, status_request(&forged)).await);
        assert_eq!((status, body["code"].as_str()), (401, Some("INVALID_QUEUE_TOKEN")));
        let mut none = waiting_user(&app).await;
        none.queue_token = None;
        let (status, body) = read(handle(&app, status_request(&none)).await);
        assert_eq!((status, body["code"].as_str().unwrap()), (401, "MISSING_QUEUE_TOKEN"));
    }
}
