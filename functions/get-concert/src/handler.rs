//! One concert of the public catalog (GET /concerts/{concertId}): its sale window, its waiting
//! room's state and each schedule's available seats. No token needed; cacheable for a few seconds.
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::domain::ids::ConcertId;
use ticketing::domain::now_ms;
use ticketing::http::{json, path_param, public_for, HttpResult};
use ticketing::App;

/// How long browsers and CDNs may keep the answer.
pub const CACHE_SECONDS: u64 = 5;

pub async fn handle(app: &App, req: Request) -> HttpResult {
    let concert = ConcertId::parse(&path_param(&req, "concertId")?)?;
    let concert = app.store.public_concert_cached(&concert, now_ms()).await?;
    Ok(public_for(json(200, &concert), CACHE_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticketing::testing::{concert_get, read, TestApp};

    #[tokio::test]
    async fn one_concert_with_its_room_state_for_anyone() {
        let app = TestApp::spawn().await;
        let concert = app.concert(20, 5_000).await;
        let resp = handle(&app, concert_get("/concerts/{concertId}", concert.concert_id.as_str())).await.unwrap();
        assert!(resp.headers()["cache-control"].to_str().unwrap().starts_with("public, max-age=5"));
        let (status, body) = read(resp);
        assert_eq!((status, body["title"].as_str(), body["roomStatus"].as_str()), (200, Some("Test Concert"), Some("OPEN")));
        assert_eq!(body["schedules"][0]["availableSeats"], 20);
        assert_eq!(body["sale"]["opensAt"], concert.sale.opens_at.as_str());
    }

    #[tokio::test]
    async fn unknown_and_malformed_ids_are_refused() {
        let app = TestApp::spawn().await;
        for (id, status, code) in [("0123456789abcdef0123456789abcdef", 404, "CONCERT_NOT_FOUND"), ("x", 422, "INVALID_ID")] {
            let (got, body) = read(handle(&app, concert_get("/concerts/{concertId}", id)).await);
            assert_eq!((got, body["code"].as_str().unwrap()), (status, code));
        }
    }
}
