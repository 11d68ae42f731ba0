//! A room's pre-queue lottery, for anyone to check (GET /concerts/{concertId}/lottery?offset&limit):
//! the commitment to the seed from the room's creation; after the opening the seed, the count of
//! pre-queue places and the drawn order, a page at a time. `local/verify-lottery` recomputes the
//! order from these and fails on any difference; `shared/src/domain/lottery.rs` has the rule. No
//! token needed. `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::api::LotteryBody;
use ticketing::domain::ids::ConcertId;
use ticketing::domain::lottery::OrderPage;
use ticketing::domain::now_ms;
use ticketing::http::{json, path_param, public_for, query_param, HttpResult};
use ticketing::store::{Rejection, StoreError};
use ticketing::App;

/// How long browsers and CDNs may keep an answer before the draw (the opening may be near).
pub const CACHE_SECONDS: u64 = 1;

/// ... and after it, when the answer never changes again.
pub const CACHE_SECONDS_DRAWN: u64 = 3_600;

/// 200 with the lottery, 404 `CONCERT_NOT_FOUND`, 422 `INVALID_ID` / `INVALID_PAGE`.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    let concert = ConcertId::parse(&path_param(&req, "concertId")?)?;
    let page = OrderPage::parse(query_param(&req, "offset").as_deref(), query_param(&req, "limit").as_deref())?;
    let lottery =
        app.store.queue.lottery(&concert, page.offset, page.limit, now_ms()).await?.ok_or(StoreError::from(Rejection::ConcertNotFound))?;
    let body = LotteryBody::new(concert, lottery);
    let seconds = if body.is_final() { CACHE_SECONDS_DRAWN } else { CACHE_SECONDS };
    Ok(public_for(json(200, &body), seconds))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use ticketing::domain::lottery::{draw, Seed};
    use ticketing::domain::queue::Inventory;
    use ticketing::testing::{concert_get, read, TestApp};

    fn page(concert: &ConcertId, offset: &str, limit: &str) -> Request {
        use lambda_http::RequestExt;
        let params = HashMap::from([("offset".to_string(), offset.to_string()), ("limit".to_string(), limit.to_string())]);
        concert_get("/concerts/{concertId}/lottery", concert.as_str()).with_query_string_parameters(params)
    }

    #[tokio::test]
    async fn the_commitment_comes_first_and_the_seed_and_order_after_the_opening() {
        let app = TestApp::spawn().await;
        let now = now_ms();
        let concert = app.concert_opening(10, 1_000, now - 1_000, now + 60_000).await.concert_id;
        for _ in 0..25 {
            app.store.queue.join(&ticketing::domain::ids::UserId::random(), &concert, now).await.unwrap();
        }
        let resp = handle(&app, page(&concert, "0", "10")).await.unwrap();
        assert!(resp.headers()["cache-control"].to_str().unwrap().starts_with("public, max-age=1,"));
        let (status, before) = read(resp);
        assert_eq!(status, 200, "{before}");
        assert_eq!((before["status"].as_str(), before["seed"].is_null(), before["tickets"].is_null()), (Some("COMMITTED"), true, true));
        assert_eq!(before["order"]["tickets"], serde_json::json!([]));

        // The opening, then its first tick draws.
        let admission = ticketing::store::queue::Admission { admit_per_tick: 0, ..app.admission() };
        let plenty = Inventory { seats: 10, sold: 0, held: 0, fans_holding: 0, holds_to_sell: None };
        app.store.queue.tick(&concert, 1, now + 60_000, admission, plenty, None).await.unwrap();
        let resp = handle(&app, page(&concert, "10", "10")).await.unwrap();
        assert!(resp.headers()["cache-control"].to_str().unwrap().starts_with("public, max-age=3600,"));
        let (_, after) = read(resp);
        assert_eq!(
            (after["status"].as_str(), after["tickets"].as_u64(), after["commitment"].clone()),
            (Some("DRAWN"), Some(25), before["commitment"].clone())
        );
        let seed = Seed::parse(after["seed"].as_str().unwrap()).unwrap();
        assert_eq!(seed.commitment(), after["commitment"].as_str().unwrap());
        let expected: Vec<u64> = draw(&seed, &concert, 25).iter().map(|&(t, _)| t).collect();
        assert_eq!(after["order"]["tickets"], serde_json::json!(expected[10..20]));
        assert_eq!((after["order"]["offset"].as_u64(), after["order"]["next"].as_u64()), (Some(10), Some(20)));
        let (_, last) = read(handle(&app, page(&concert, "20", "10")).await.unwrap());
        assert_eq!((last["order"]["tickets"].as_array().unwrap().len(), last["order"]["next"].is_null()), (5, true));
    }

    #[tokio::test]
    async fn a_bad_page_or_an_unknown_concert_is_refused() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 1_000).await.concert_id;
        let (status, body) = read(handle(&app, page(&concert, "0", "10001")).await);
        assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_PAGE")), "{body}");
        let (status, body) = read(handle(&app, page(&ConcertId::random(), "0", "10")).await);
        assert_eq!((status, body["code"].as_str()), (404, Some("CONCERT_NOT_FOUND")));
    }
}
