//! Operators: a waiting room's live state (GET /admin/concerts/{concertId}/room): status, sale
//! times, the settings that apply, waiting and ACTIVE fans, admitted and dropped totals, the
//! observed admission rate, the oldest wait, the ETA of the last in line, seats
//! available/held/sold and the last changes. `main.rs` runs this handler on Lambda; the local
//! gateway calls it in-process.

use lambda_http::Request;
use ticketing::api::RoomReport;
use ticketing::domain::ids::ConcertId;
use ticketing::domain::now_ms;
use ticketing::http::{json, path_param, HttpResult};
use ticketing::App;

pub async fn handle(app: &App, req: Request) -> HttpResult {
    app.authorize_operator(&req)?;
    let concert = ConcertId::parse(&path_param(&req, "concertId")?)?;
    let now = now_ms();
    let report = RoomReport::new(app.store.room_view(&concert, now).await?, now, app.admission());
    let mut resp = json(200, &report);
    resp.headers_mut().insert("cache-control", "no-store".parse().expect("static header"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use ticketing::domain::inputs::SeatNumber;
    use ticketing::testing::{read, request, with_path, TestApp};

    fn get(id: &str, key: Option<&str>) -> Request {
        let mut req = with_path(request(Method::GET, &format!("/admin/concerts/{id}/room"), None), &[("concertId", id)]);
        if let Some(key) = key {
            req.headers_mut().insert("x-admin-key", key.parse().unwrap());
        }
        req
    }

    #[tokio::test]
    async fn operators_see_the_line_the_rate_and_the_seats() {
        let app = TestApp::spawn_with(|c| c.admission.admit_per_tick = 2).await;
        let concert = app.concert(10, 1_000).await;
        let holder = app.admitted_user(0).await;
        app.store
            .booking
            .hold(
                holder.ticket.as_ref().unwrap(),
                &concert.schedules[0].schedule_id,
                SeatNumber::parse(1).unwrap(),
                now_ms(),
                ticketing::testing::policies::MINUTE_HOLD_FOUR_SEATS,
            )
            .await
            .unwrap();
        for _ in 0..5 {
            app.waiting_user(0).await;
        }
        app.admit_waiting().await;
        let (status, body) = read(handle(&app, get(concert.concert_id.as_str(), Some("test-admin-key"))).await);
        assert_eq!(status, 200, "{body}");
        assert_eq!((body["status"].as_str(), body["waiting"].as_u64(), body["active"].as_u64()), (Some("OPEN"), Some(3), Some(3)));
        assert_eq!(
            (body["admitPerTick"].as_u64(), body["activeCap"].as_u64(), body["overbooking"].as_f64()),
            (Some(2), Some(1000), Some(1.5))
        );
        assert_eq!(body["admittedTotal"], 2);
        assert_eq!(body["seats"], serde_json::json!({"total": 10, "available": 9, "held": 1, "sold": 0}));
        assert!(body["admittedPerSecond"].as_f64().unwrap() > 0.0);
        assert!(body["lastInLineEtaSeconds"].as_u64().is_some());
        // Join times are kept to the second: a join at 12.9 s waited "1 s" at 13.1 s.
        assert!(body["oldestWaitSeconds"].as_u64().unwrap() <= 1, "{body}");
    }

    #[tokio::test]
    async fn only_operators_and_only_real_rooms() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 1_000).await;
        for (id, key, status, code) in [
            (concert.concert_id.as_str(), None, 401, "INVALID_ADMIN_KEY"),
            ("0123456789abcdef0123456789abcdef", Some("test-admin-key"), 404, "CONCERT_NOT_FOUND"),
            ("nope", Some("test-admin-key"), 422, "INVALID_ID"),
        ] {
            let (got, body) = read(handle(&app, get(id, key)).await);
            assert_eq!((got, body["code"].as_str().unwrap()), (status, code));
        }
    }
}
