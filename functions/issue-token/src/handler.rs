//! Takes a place in a concert's waiting room, or returns the caller's live place there
//! (POST /queue/tokens `{concertId}`). `main.rs` runs this handler on Lambda; the local gateway
//! calls it in-process.

use lambda_http::Request;
use serde::Deserialize;
use ticketing::api::queue_status;
use ticketing::domain::ids::ConcertId;
use ticketing::domain::now_ms;
use ticketing::http::{client_address, parse_json, HttpResult};
use ticketing::store::limits::Action;
use ticketing::store::queue::Joined;
use ticketing::App;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinRequest {
    concert_id: String,
}

/// 201 with a new place (in the pre-queue before the opening, at the back of the line after),
/// or 200 with the caller's live place in that room: asking again never gives a second place.
/// 403 `SALE_NOT_OPEN` before the pre-queue opens, 409 `SOLD_OUT` once every seat is sold, 429
/// `TOO_MANY_REQUESTS` past `JOINS_PER_MINUTE` from one address.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    let user = app.authenticate(&req)?;
    let body: JoinRequest = parse_json(&req)?;
    let concert = ConcertId::parse(&body.concert_id)?;
    app.store.limits.check(Action::JoinQueue, &client_address(&req), app.config.limits.joins_per_minute).await?;
    let now = now_ms();
    let Joined { ticket, created } = app.store.queue.join(&user, &concert, now).await?;
    let position = app.store.queue.position(&ticket, now).await?;
    Ok(queue_status(if created { 201 } else { 200 }, &app.signer()?.queue_token(&ticket), &concert, &position, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use serde_json::json;
    use ticketing::testing::{from_address, read, request, response, signed, TestApp, TestUser};

    fn join(user: &TestUser, concert: &str) -> Request {
        signed(request(Method::POST, "/queue/tokens", Some(json!({ "concertId": concert }))), user)
    }

    #[tokio::test]
    async fn a_new_user_joins_the_back_of_the_line_and_keeps_the_place() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 1_000).await;
        let c = concert.concert_id.as_str();
        let first = app.user().await;
        let second = app.user().await;
        let (status, a) = read(handle(&app, join(&first, c)).await);
        assert_eq!(
            (status, a["status"].as_str(), a["position"].as_u64(), a["concertId"].as_str()),
            (201, Some("WAITING"), Some(1), Some(c))
        );
        let (_, b) = read(handle(&app, join(&second, c)).await);
        assert_eq!(b["position"], 2);
        let resp = handle(&app, join(&first, c)).await.unwrap();
        assert!(resp.headers().contains_key("retry-after"));
        let (status, again) = read(resp);
        assert_eq!((status, &again["queueToken"], again["position"].as_u64()), (200, &a["queueToken"], Some(1)));
    }

    #[tokio::test]
    async fn each_concert_has_its_own_room() {
        let app = TestApp::spawn().await;
        let stadium = app.concert(10, 1_000).await;
        let club = app.concert(10, 1_000).await;
        for _ in 0..3 {
            app.waiting_user_in(&stadium.concert_id, 0).await;
        }
        let fan = app.user().await;
        let (status, body) = read(handle(&app, join(&fan, club.concert_id.as_str())).await);
        assert_eq!((status, body["position"].as_u64()), (201, Some(1)), "nobody from the other room is ahead");
        let ticket = app.signer().unwrap().verify_queue(body["queueToken"].as_str().unwrap()).unwrap();
        assert_eq!(ticket.concert, club.concert_id);
    }

    #[tokio::test]
    async fn before_the_prequeue_opens_nobody_gets_a_place_then_the_prequeue_has_no_position() {
        let app = TestApp::spawn().await;
        let now = now_ms();
        let later = app.concert_opening(10, 1_000, now + 60_000, now + 120_000).await;
        let fan = app.user().await;
        let resp = response(handle(&app, join(&fan, later.concert_id.as_str())).await);
        let (status, body) = read(resp);
        assert_eq!((status, body["code"].as_str()), (403, Some("SALE_NOT_OPEN")));
        assert_eq!(body["prequeueOpensAt"], ticketing::domain::models::rfc3339(now + 60_000));

        let soon = app.concert_opening(10, 1_000, now - 1_000, now + 120_000).await;
        let (status, body) = read(handle(&app, join(&fan, soon.concert_id.as_str())).await);
        assert_eq!((status, body["status"].as_str()), (201, Some("PREQUEUE")), "{body}");
        assert!(body.get("position").is_none());
        assert_eq!(body["opensAt"], ticketing::domain::models::rfc3339(now + 120_000));
    }

    #[tokio::test]
    async fn one_address_joins_a_few_times_a_minute_then_gets_429() {
        let app = TestApp::spawn_with(|c| c.limits.joins_per_minute = 3).await;
        let concert = app.concert(10, 1_000).await;
        for _ in 0..3 {
            let fan = app.user().await;
            assert_eq!(read(handle(&app, from_address(join(&fan, concert.concert_id.as_str()), "203.0.113.7")).await).0, 201);
        }
        let fan = app.user().await;
        let resp = response(handle(&app, from_address(join(&fan, concert.concert_id.as_str()), "203.0.113.7")).await);
        assert!(resp.headers().contains_key("retry-after"));
        let (status, body) = read(resp);
        assert_eq!((status, body["code"].as_str()), (429, Some("TOO_MANY_REQUESTS")));
        let snapshot = app.store.queue.snapshot(&concert.concert_id, now_ms()).await.unwrap();
        assert_eq!(snapshot.waiting, 3, "the refused fan took no place");
    }

    #[tokio::test]
    async fn bad_requests_are_refused() {
        let app = TestApp::spawn().await;
        let fan = app.user().await;
        for (req, status, code) in [
            (request(Method::POST, "/queue/tokens", Some(json!({"concertId": "0123456789abcdef0123456789abcdef"}))), 401, "MISSING_TOKEN"),
            (signed(request(Method::POST, "/queue/tokens", None), &fan), 400, "INVALID_BODY"),
            (join(&fan, "nope"), 422, "INVALID_ID"),
            (join(&fan, "0123456789abcdef0123456789abcdef"), 404, "CONCERT_NOT_FOUND"),
        ] {
            let (got, body) = read(handle(&app, req).await);
            assert_eq!((got, body["code"].as_str().unwrap()), (status, code));
        }
    }
}
