//! Takes a place in a concert's waiting room, or returns the caller's live place there
//! (POST /queue/tokens `{concertId, challenge?, nonce?, code?}`). Where the room's door asks a proof of
//! work, a new place needs a challenge from `GET /concerts/{id}/challenge` and the nonce that
//! solves it; the solution is checked here (one hash and the signature, no Redis) and taken once
//! by the join script. `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use serde::Deserialize;
use ticketing::api::queue_status;
use ticketing::domain::ids::ConcertId;
use ticketing::domain::now_ms;
use ticketing::domain::presale::PresaleCode;
use ticketing::http::{client_address, parse_json, HttpResult};
use ticketing::store::limits::Action;
use ticketing::store::queue::{AtTheDoor, Joined};
use ticketing::App;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JoinRequest {
    concert_id: String,
    challenge: Option<String>,
    nonce: Option<String>,
    /// A presale code, for a presale-only room.
    code: Option<String>,
}

/// 201 with a new place (in the pre-queue before the opening, at the back of the line after),
/// or 200 with the caller's live place in that room: asking again never gives a second place.
/// 403 `SALE_NOT_OPEN` before the pre-queue opens, 409 `SOLD_OUT` once every seat is sold, 429
/// `TOO_MANY_REQUESTS` past `JOINS_PER_MINUTE` from one address. The door: 428
/// `CHALLENGE_REQUIRED` without a solution where the room asks one; 400 `CHALLENGE_INVALID`,
/// `CHALLENGE_EXPIRED`, `CHALLENGE_WRONG_CONCERT` or `CHALLENGE_UNSOLVED` for a bad one; 409
/// `CHALLENGE_REUSED` for a solution that already took a place. A presale-only room: 403
/// `PRESALE_CODE_REQUIRED` without a code, 404 `PRESALE_CODE_NOT_FOUND`, 409 `PRESALE_CODE_TAKEN`
/// for another account's code, 422 `INVALID_PRESALE_CODE`. Nothing is stored for a refusal.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    let user = app.authenticate(&req)?;
    let body: JoinRequest = parse_json(&req)?;
    let concert = ConcertId::parse(&body.concert_id)?;
    let now = now_ms();
    let solved = match (&body.challenge, &body.nonce) {
        (Some(token), nonce) => {
            let challenge = app.signer()?.open_challenge(token)?;
            challenge.check(token, nonce.as_deref().unwrap_or(""), &concert, now)?;
            Some(challenge)
        }
        (None, _) => None,
    };
    let code = body.code.as_deref().map(PresaleCode::parse).transpose()?;
    app.store.limits.check(Action::JoinQueue, &client_address(&req), app.config.limits.joins_per_minute).await?;
    let door = AtTheDoor { default_max_bits: app.config.admission.door.max_bits, solved: solved.as_ref(), code: code.as_ref() };
    let Joined { ticket, created } = app.store.queue.join_at_door(&user, &concert, now, door).await?;
    let position = app.store.queue.position(&ticket, now).await?;
    Ok(queue_status(if created { 201 } else { 200 }, &app.signer()?.queue_token(&ticket), &concert, &position, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use serde_json::json;
    use ticketing::domain::challenge::{solve, solves, Challenge, CHALLENGE_LIFETIME_MS};
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

    /// A room whose door asks `bits` (min and max alike).
    async fn door_asking(bits: u8) -> TestApp {
        TestApp::spawn_with(|c| c.admission.door = ticketing::domain::challenge::Door { min_bits: bits, max_bits: bits }).await
    }

    /// A challenge for `concert` signed by `app`, and the nonce that solves it.
    fn solved(app: &TestApp, concert: &ConcertId, bits: u8, now: u64) -> (String, String) {
        let token = app.signer().unwrap().challenge(&Challenge::issue(concert, bits, now));
        let nonce = solve(&token, bits, 0);
        (token, nonce)
    }

    fn join_solved(user: &TestUser, concert: &str, challenge: &str, nonce: &str) -> Request {
        let body = json!({ "concertId": concert, "challenge": challenge, "nonce": nonce });
        signed(request(Method::POST, "/queue/tokens", Some(body)), user)
    }

    #[tokio::test]
    async fn where_the_door_asks_work_a_solution_takes_one_place_once() {
        let app = door_asking(8).await;
        let concert = app.concert(10, 1_000).await;
        let (c, id) = (concert.concert_id.as_str(), &concert.concert_id);
        let fan = app.user().await;
        let (status, body) = read(handle(&app, join(&fan, c)).await);
        assert_eq!((status, body["code"].as_str()), (428, Some("CHALLENGE_REQUIRED")), "{body}");
        assert_eq!(app.store.queue.snapshot(id, now_ms()).await.unwrap().waiting, 0, "nothing stored for a refusal");

        let (token, nonce) = solved(&app, id, 8, now_ms());
        let (status, first) = read(handle(&app, join_solved(&fan, c, &token, &nonce)).await);
        assert_eq!((status, first["status"].as_str()), (201, Some("WAITING")), "{first}");
        // The same fan resending it gets the same place back; anyone else is refused.
        let (status, again) = read(handle(&app, join_solved(&fan, c, &token, &nonce)).await);
        assert_eq!((status, &again["queueToken"]), (200, &first["queueToken"]));
        let other = app.user().await;
        let (status, body) = read(handle(&app, join_solved(&other, c, &token, &nonce)).await);
        assert_eq!((status, body["code"].as_str()), (409, Some("CHALLENGE_REUSED")));
        assert_eq!(app.store.queue.snapshot(id, now_ms()).await.unwrap().waiting, 1);
    }

    #[tokio::test]
    async fn a_bad_solution_gets_its_own_code_and_stores_nothing() {
        let app = door_asking(8).await;
        let concert = app.concert(10, 1_000).await;
        let (c, id) = (concert.concert_id.as_str(), &concert.concert_id);
        let other = app.concert(10, 1_000).await;
        let fan = app.user().await;
        let now = now_ms();
        let (token, nonce) = solved(&app, id, 8, now);
        let (elsewhere, elsewhere_nonce) = solved(&app, &other.concert_id, 8, now);
        let (expired, expired_nonce) = solved(&app, id, 8, now - CHALLENGE_LIFETIME_MS - 1);
        let forged = ticketing::domain::tokens::TokenSigner::new(b"someone else's secret").challenge(&Challenge::issue(id, 0, now));
        let unsolved = (0u64..).map(|n| n.to_string()).find(|n| !solves(&token, n, 8)).unwrap();
        for (challenge, nonce, status, code) in [
            (forged.as_str(), "0", 400, "CHALLENGE_INVALID"),
            ("pow.garbage", "0", 400, "CHALLENGE_INVALID"),
            (expired.as_str(), expired_nonce.as_str(), 400, "CHALLENGE_EXPIRED"),
            (elsewhere.as_str(), elsewhere_nonce.as_str(), 400, "CHALLENGE_WRONG_CONCERT"),
            (token.as_str(), unsolved.as_str(), 400, "CHALLENGE_UNSOLVED"),
            (token.as_str(), "", 400, "CHALLENGE_UNSOLVED"),
        ] {
            let (got, body) = read(handle(&app, join_solved(&fan, c, challenge, nonce)).await);
            assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
        }
        assert_eq!(app.store.queue.snapshot(id, now_ms()).await.unwrap().waiting, 0);
        // The good solution was never taken by the refusals.
        assert_eq!(read(handle(&app, join_solved(&fan, c, &token, &nonce)).await).0, 201);
    }

    #[tokio::test]
    async fn twenty_accounts_racing_with_one_solution_get_one_place() {
        let app = door_asking(4).await;
        let concert = app.concert(10, 1_000).await;
        let (c, id) = (concert.concert_id.as_str(), &concert.concert_id);
        let (token, nonce) = solved(&app, id, 4, now_ms());
        let mut fans = Vec::new();
        for _ in 0..20 {
            fans.push(app.user().await);
        }
        let answers = futures::future::join_all(fans.iter().map(|fan| handle(&app, join_solved(fan, c, &token, &nonce)))).await;
        let statuses: Vec<u16> = answers.into_iter().map(|a| read(a).0).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 19, "{statuses:?}");
        assert_eq!(app.store.queue.snapshot(id, now_ms()).await.unwrap().waiting, 1);
    }
}
