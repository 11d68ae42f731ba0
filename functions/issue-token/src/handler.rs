//! Enters the waiting room or returns the caller's live queue token (POST /queue/tokens).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::domain::now_ms;
use ticketing::http::{queue_status, HttpResult};
use ticketing::App;

/// 201 with a new place at the back of the line, or 200 with the caller's live token: asking
/// again never gives a second place.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    let user = app.authenticate(&req)?;
    let now = now_ms();
    let (ticket, created) = app.store.queue.issue_ticket(&user, now).await?;
    let position = app.store.queue.position(&ticket, now).await?;
    Ok(queue_status(if created { 201 } else { 200 }, &app.signer.queue_token(&ticket), &position))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use ticketing::testing::{read, request, signed, TestApp};

    #[tokio::test]
    async fn a_new_user_joins_the_back_of_the_line_and_keeps_the_place() {
        let app = TestApp::spawn().await;
        let first = app.user().await;
        let second = app.user().await;
        let (status, a) = read(handle(&app, signed(request(Method::POST, "/queue/tokens", None), &first)).await);
        assert_eq!((status, a["status"].as_str(), a["position"].as_u64()), (201, Some("WAITING"), Some(1)));
        let (_, b) = read(handle(&app, signed(request(Method::POST, "/queue/tokens", None), &second)).await);
        assert_eq!(b["position"], 2);
        let resp = handle(&app, signed(request(Method::POST, "/queue/tokens", None), &first)).await.unwrap();
        assert!(resp.headers().contains_key("retry-after"));
        let (status, again) = read(resp);
        assert_eq!((status, &again["queueToken"], again["position"].as_u64()), (200, &a["queueToken"], Some(1)));
    }

    #[tokio::test]
    async fn needs_an_access_token() {
        let app = TestApp::spawn().await;
        let (status, body) = read(handle(&app, request(Method::POST, "/queue/tokens", None)).await);
        assert_eq!((status, body["code"].as_str().unwrap()), (401, "MISSING_TOKEN"));
    }
}
