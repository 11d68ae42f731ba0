//! A room's proof-of-work challenge (GET /concerts/{concertId}/challenge): a signed token naming
//! the concert, an expiry, the difficulty the door asks now and a random salt. The fan finds a
//! nonce such that SHA-256(`challenge:nonce`) starts with `bits` zero bits and sends both with
//! `POST /queue/tokens`; `shared/src/domain/challenge.rs` has the rules. No token needed: the
//! challenge is the first thing a fan's page asks for. `main.rs` runs this handler on Lambda; the
//! local gateway calls it in-process.

use lambda_http::http::header::{HeaderValue, CACHE_CONTROL};
use lambda_http::Request;
use ticketing::api::ChallengeBody;
use ticketing::domain::challenge::Challenge;
use ticketing::domain::ids::ConcertId;
use ticketing::domain::now_ms;
use ticketing::http::{json, path_param, HttpResult};
use ticketing::store::{Rejection, StoreError};
use ticketing::App;

/// 200 with a new challenge (each one is solved once, so never cached), 404 `CONCERT_NOT_FOUND`.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    let concert = ConcertId::parse(&path_param(&req, "concertId")?)?;
    let now = now_ms();
    let door = app.store.queue.door(&concert, app.config.admission.door, now).await?.ok_or(StoreError::from(Rejection::ConcertNotFound))?;
    let challenge = Challenge::issue(&concert, door.bits, now);
    let token = app.signer()?.challenge(&challenge);
    let mut resp = json(200, &ChallengeBody::new(token, &challenge, &door));
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticketing::domain::admin::RoomUpdateRequest;
    use ticketing::domain::challenge::{solves, CHALLENGE_LIFETIME_MS};
    use ticketing::domain::ids::ConcertId;
    use ticketing::testing::{concert_get, read, TestApp};

    fn with_door(min: u8, max: u8) -> impl FnOnce(&mut ticketing::config::Config) {
        move |c| {
            c.admission.door.min_bits = min;
            c.admission.door.max_bits = max;
        }
    }

    #[tokio::test]
    async fn a_challenge_names_its_concert_and_the_difficulty_the_room_asks() {
        let app = TestApp::spawn_with(with_door(8, 12)).await;
        let concert = app.concert(10, 1_000).await;
        let resp = handle(&app, concert_get("/concerts/{concertId}/challenge", concert.concert_id.as_str())).await.unwrap();
        assert_eq!(resp.headers()["cache-control"], "no-store");
        let (status, body) = read(resp);
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (body["bits"].as_u64(), body["required"].as_bool(), body["algorithm"].as_str()),
            (Some(8), Some(true), Some("sha256-leading-zero-bits"))
        );
        let token = body["challenge"].as_str().unwrap();
        let challenge = app.signer().unwrap().open_challenge(token).unwrap();
        assert_eq!((challenge.concert, challenge.bits), (concert.concert_id.clone(), 8));
        assert!(challenge.expires_at_ms <= now_ms() + CHALLENGE_LIFETIME_MS);
        // Two challenges never share a salt.
        let (_, again) = read(handle(&app, concert_get("/concerts/{concertId}/challenge", concert.concert_id.as_str())).await.unwrap());
        assert_ne!(again["challenge"], body["challenge"]);
        let nonce = ticketing::domain::challenge::solve(token, 8, 0);
        assert!(solves(token, &nonce, 8));
    }

    #[tokio::test]
    async fn the_pre_queue_asks_the_maximum_and_an_operator_can_open_the_door() {
        let app = TestApp::spawn_with(with_door(8, 14)).await;
        let now = now_ms();
        let concert = app.concert_opening(10, 1_000, now - 1_000, now + 60_000).await;
        let c = concert.concert_id.as_str();
        let (_, body) = read(handle(&app, concert_get("/concerts/{concertId}/challenge", c)).await.unwrap());
        assert_eq!(body["bits"], 14, "the pre-queue asks the maximum: {body}");

        let open = RoomUpdateRequest { pow_max_bits: Some(0), ..Default::default() }.validate().unwrap();
        app.store.queue.update(&concert.concert_id, &open, now).await.unwrap();
        let (_, body) = read(handle(&app, concert_get("/concerts/{concertId}/challenge", c)).await.unwrap());
        assert_eq!((body["bits"].as_u64(), body["required"].as_bool()), (Some(0), Some(false)));
    }

    #[tokio::test]
    async fn an_unknown_concert_has_no_door() {
        let app = TestApp::spawn_with(with_door(8, 12)).await;
        let (status, body) = read(handle(&app, concert_get("/concerts/{concertId}/challenge", ConcertId::random().as_str())).await);
        assert_eq!((status, body["code"].as_str()), (404, Some("CONCERT_NOT_FOUND")));
        let (status, body) = read(handle(&app, concert_get("/concerts/{concertId}/challenge", "not-an-id")).await);
        assert_eq!((status, body["code"].as_str()), (422, Some("INVALID_ID")));
    }
}
