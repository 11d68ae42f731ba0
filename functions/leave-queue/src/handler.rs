//! Leaves the caller's waiting room (DELETE /queue/tokens/current): a waiting place is freed at
//! once, an ACTIVE slot goes to the next fan on the next tick. `main.rs` runs this handler on
//! Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::api::LeftBody;
use ticketing::http::{json, HttpResult};
use ticketing::App;

/// 200 `{status: LEFT, was}`, where `was` is WAITING, ACTIVE or GONE (left before, dropped or
/// ended): leaving again is harmless.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    let user = app.authenticate(&req)?;
    let ticket = app.queue_ticket(&req, &user)?;
    let body = LeftBody::new(app.store.queue.leave(&ticket).await?, &ticket.concert);
    tracing::info!(concert = %ticket.concert, was = body.was, "left the waiting room");
    Ok(json(200, &body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use ticketing::domain::now_ms;
    use ticketing::domain::queue::QueuePosition;
    use ticketing::testing::{read, request, signed, TestApp, TestUser};

    fn leave(user: &TestUser) -> Request {
        signed(request(Method::DELETE, "/queue/tokens/current", None), user)
    }

    #[tokio::test]
    async fn leaving_frees_the_place_and_is_safe_to_repeat() {
        let app = TestApp::spawn().await;
        app.concert(10, 1_000).await;
        let first = app.waiting_user(0).await;
        let second = app.waiting_user(0).await;
        let (status, body) = read(handle(&app, leave(&first)).await);
        assert_eq!((status, body["status"].as_str(), body["was"].as_str()), (200, Some("LEFT"), Some("WAITING")));
        let position = app.store.queue.position(second.ticket.as_ref().unwrap(), now_ms()).await.unwrap();
        assert!(matches!(position, QueuePosition::Waiting { position: 1, .. }), "{position:?}");
        let (status, body) = read(handle(&app, leave(&first)).await);
        assert_eq!((status, body["was"].as_str()), (200, Some("GONE")));
        let active = app.admitted_user(0).await;
        let (_, body) = read(handle(&app, leave(&active)).await);
        assert_eq!(body["was"], "ACTIVE");
        assert_eq!(app.store.queue.position(active.ticket.as_ref().unwrap(), now_ms()).await.unwrap(), QueuePosition::Expired);
    }

    #[tokio::test]
    async fn needs_the_callers_own_tokens() {
        let app = TestApp::spawn().await;
        app.concert(10, 1_000).await;
        let owner = app.waiting_user(0).await;
        let mut stranger = app.user().await;
        let (status, body) = read(handle(&app, leave(&stranger)).await);
        assert_eq!((status, body["code"].as_str()), (401, Some("MISSING_QUEUE_TOKEN")));
        stranger.queue_token = owner.queue_token.clone();
        let (status, body) = read(handle(&app, leave(&stranger)).await);
        assert_eq!((status, body["code"].as_str()), (401, Some("INVALID_QUEUE_TOKEN")));
        let position = app.store.queue.position(owner.ticket.as_ref().unwrap(), now_ms()).await.unwrap();
        assert!(matches!(position, QueuePosition::Waiting { .. }), "the owner's place is untouched");
    }
}
