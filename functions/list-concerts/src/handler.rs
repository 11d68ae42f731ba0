//! The public catalog (GET /concerts): every concert with its sale window, its waiting room's
//! state and each schedule's available seats. No token needed, and cacheable by a CDN for a few
//! seconds; each process also keeps what it read for `CATALOG_CACHE_MILLIS`, so a crowd reading
//! the catalog costs Redis one read per second per process. `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::api::CatalogBody;
use ticketing::domain::now_ms;
use ticketing::http::{json, public_for, HttpResult};
use ticketing::App;

/// How long browsers and CDNs may keep the catalog.
pub const CACHE_SECONDS: u64 = 5;

pub async fn handle(app: &App, _req: Request) -> HttpResult {
    let concerts = app.store.public_concerts_cached(now_ms()).await?;
    Ok(public_for(json(200, &CatalogBody { concerts: &concerts }), CACHE_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use ticketing::domain::inputs::SeatNumber;
    use ticketing::domain::models::rfc3339;
    use ticketing::testing::policies::*;
    use ticketing::testing::{read, request, TestApp};

    #[tokio::test]
    async fn anyone_sees_schedules_with_available_seats_and_the_room_state() {
        let app = TestApp::spawn().await;
        let concert = app.concert(50, 80_000).await;
        let user = app.admitted_user(0).await;
        let schedule = concert.schedules[0].schedule_id.clone();
        let ticket = user.ticket.clone().unwrap();
        app.store.booking.hold(&ticket, &schedule, SeatNumber::parse(5).unwrap(), now_ms(), MINUTE_HOLD_FOUR_SEATS).await.unwrap();

        let resp = handle(&app, request(Method::GET, "/concerts", None)).await.unwrap();
        assert_eq!(resp.headers()["cache-control"], "public, max-age=5, s-maxage=5, stale-while-revalidate=30");
        let (status, body) = read(resp);
        assert_eq!(status, 200);
        let c = &body["concerts"][0];
        let s = &c["schedules"][0];
        assert_eq!(c["concertId"], concert.concert_id.as_str());
        assert_eq!(c["roomStatus"], "OPEN");
        assert_eq!(c["sale"]["opensAt"], concert.sale.opens_at.as_str());
        assert_eq!((s["seatCount"].as_u64(), s["availableSeats"].as_u64(), s["price"].as_u64()), (Some(50), Some(49), Some(80_000)));
    }

    /// Within the cache period the catalog is served without reading Redis (here, with the stored
    /// catalog gone); after it, Redis is read again. With the period 0 every request reads Redis.
    #[tokio::test]
    async fn the_catalog_is_read_from_redis_once_per_cache_period() {
        use fred::interfaces::KeysInterface;
        for (cache_ms, served_from_memory) in [(400, true), (0, false)] {
            let app = TestApp::spawn_with(|c| c.redis.catalog_cache = std::time::Duration::from_millis(cache_ms)).await;
            let concert = app.concert(10, 1_000).await;
            let count = |body: &serde_json::Value| body["concerts"].as_array().unwrap().len();
            let (_, first) = read(handle(&app, request(Method::GET, "/concerts", None)).await);
            assert_eq!(count(&first), 1);
            let redis = app.raw_redis().await;
            let _: () = redis.del(app.keys().catalog()).await.unwrap();
            let (status, second) = read(handle(&app, request(Method::GET, "/concerts", None)).await);
            assert_eq!((status, count(&second) == 1), (200, served_from_memory), "cache {cache_ms} ms: {second}");
            if served_from_memory {
                let id = concert.concert_id.as_str();
                assert_eq!(app.store.public_concert_cached(&concert.concert_id, now_ms()).await.unwrap().concert_id.as_str(), id);
                tokio::time::sleep(std::time::Duration::from_millis(cache_ms + 50)).await;
                let (_, later) = read(handle(&app, request(Method::GET, "/concerts", None)).await);
                assert_eq!(count(&later), 0, "read again after the period: {later}");
            }
        }
    }

    #[tokio::test]
    async fn the_room_state_follows_the_sale_window() {
        let app = TestApp::spawn().await;
        let now = now_ms();
        let scheduled = app.concert_opening(10, 1_000, now + 60_000, now + 120_000).await;
        let prequeue = app.concert_opening(10, 1_000, now - 1_000, now + 120_000).await;
        let (_, body) = read(handle(&app, request(Method::GET, "/concerts", None)).await);
        let state = |id: &str| {
            let c = body["concerts"].as_array().unwrap().iter().find(|c| c["concertId"] == id).unwrap();
            (c["roomStatus"].as_str().unwrap().to_owned(), c["sale"]["opensAt"].as_str().unwrap().to_owned())
        };
        assert_eq!(state(scheduled.concert_id.as_str()), ("SCHEDULED".to_owned(), rfc3339(now + 120_000)));
        assert_eq!(state(prequeue.concert_id.as_str()).0, "PREQUEUE");
    }
}
