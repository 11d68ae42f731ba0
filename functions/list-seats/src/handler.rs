//! Lists the seats of a schedule (GET /concerts/{concertId}/schedules/{scheduleId}/seats), a page
//! at a time: `?from=1&limit=5000` (the defaults; at most 5,000 a page), `nextFrom` names the next
//! page; `?status=AVAILABLE` filters within the page.
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use lambda_http::{Body, Response};
use ticketing::api::SeatPageBody;
use ticketing::domain::ids::{ConcertId, ScheduleId};
use ticketing::domain::inputs::SeatPage;
use ticketing::domain::models::SeatStatus;
use ticketing::domain::now_ms;
use ticketing::domain::tokens::QueueTicket;
use ticketing::http::{path_param, query_param, HttpResult};
use ticketing::{ApiError, App, ErrorCode};

pub async fn handle(app: &App, req: Request) -> HttpResult {
    let ticket = app.admitted_caller(&req)?;
    app.on_booking_path(&ticket.concert, list(app, &ticket, &req)).await
}

async fn list(app: &App, ticket: &QueueTicket, req: &Request) -> HttpResult {
    let concert = ConcertId::parse(&path_param(req, "concertId")?)?;
    let schedule = ScheduleId::parse(&path_param(req, "scheduleId")?)?;
    let only = match query_param(req, "status").as_deref() {
        None => None,
        Some("AVAILABLE") => Some(SeatStatus::Available),
        Some("HELD") => Some(SeatStatus::Held),
        Some("SOLD") => Some(SeatStatus::Sold),
        Some(_) => return Err(ApiError::new(ErrorCode::InvalidStatusFilter, "status must be AVAILABLE, HELD or SOLD")),
    };
    let page = SeatPage::parse(query_param(req, "from").as_deref(), query_param(req, "limit").as_deref())?;
    let (seat_count, mut seats) = app.store.booking.seat_page(ticket, &concert, &schedule, page, now_ms()).await?;
    if let Some(only) = only {
        seats.retain(|s| s.status == only);
    }
    let view = SeatPageBody {
        concert_id: &concert,
        schedule_id: &schedule,
        seat_count,
        from: page.from,
        next_from: page.next(seat_count),
        seats: &seats,
    };
    let body = view.to_json();
    Ok(Response::builder().status(200).header("content-type", "application/json").body(Body::from(body)).expect("static headers are valid"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use lambda_http::RequestExt;
    use serde_json::json;
    use std::collections::HashMap;
    use ticketing::domain::inputs::SeatNumber;
    use ticketing::testing::{read, request, signed, with_path, TestApp, TestUser};

    fn seats_request(user: &TestUser, concert: &str, schedule: &str, status: Option<&str>) -> Request {
        let path = format!("/concerts/{concert}/schedules/{schedule}/seats");
        let mut req = with_path(signed(request(Method::GET, &path, None), user), &[("concertId", concert), ("scheduleId", schedule)]);
        if let Some(status) = status {
            req = req.with_query_string_parameters(HashMap::from([("status".to_string(), status.to_string())]));
        }
        req
    }

    #[tokio::test]
    async fn every_seat_with_its_status_and_a_filter() {
        let app = TestApp::spawn().await;
        let concert = app.concert(50, 1_000).await;
        let sid = concert.schedules[0].schedule_id.as_str();
        let cid = concert.concert_id.as_str();
        let user = app.admitted_user(0).await;
        let schedule = concert.schedules[0].schedule_id.clone();
        app.store
            .booking
            .hold(
                user.ticket.as_ref().unwrap(),
                &schedule,
                SeatNumber::parse(3).unwrap(),
                now_ms(),
                ticketing::testing::policies::MINUTE_HOLD,
            )
            .await
            .unwrap();

        let (status, body) = read(handle(&app, seats_request(&user, cid, sid, None)).await);
        assert_eq!(status, 200);
        let seats = body["seats"].as_array().unwrap();
        assert_eq!(seats.len(), 50);
        assert_eq!(seats[2], json!({"number": 3, "status": "HELD"}));
        let (_, body) = read(handle(&app, seats_request(&user, cid, sid, Some("AVAILABLE"))).await);
        assert_eq!(body["seats"].as_array().unwrap().len(), 49);
        assert!(body["seats"].as_array().unwrap().iter().all(|s| s["number"] != 3));
    }

    #[tokio::test]
    async fn each_answer_is_counted_in_the_rooms_health_for_the_autopilot() {
        let app = TestApp::spawn().await;
        let concert = app.concert(20, 1_000).await;
        let (cid, sid) = (concert.concert_id.as_str(), concert.schedules[0].schedule_id.as_str());
        let user = app.admitted_user(0).await;
        for _ in 0..3 {
            assert_eq!(read(handle(&app, seats_request(&user, cid, sid, None)).await).0, 200);
        }
        let unknown = ScheduleId::random();
        assert_eq!(read(handle(&app, seats_request(&user, cid, unknown.as_str(), None)).await).0, 404);
        // Counted in the background after each answer.
        let mut health = Default::default();
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            health = app.store.health.window(&concert.concert_id, now_ms() + 2_000, 4).await.unwrap();
            if health.answers == 4 {
                break;
            }
        }
        assert_eq!((health.answers, health.errors), (4, 0), "4xx answers count, as answers");
        assert!(health.p95_ms().is_some());
    }

    #[tokio::test]
    async fn a_large_hall_is_listed_a_page_at_a_time() {
        let app = TestApp::spawn().await;
        let concert = app.concert(12_000, 1_000).await;
        let (cid, sid) = (concert.concert_id.as_str(), concert.schedules[0].schedule_id.as_str());
        let user = app.admitted_user(0).await;
        let (status, body) = read(handle(&app, seats_request(&user, cid, sid, None)).await);
        assert_eq!(status, 200);
        assert_eq!(
            (body["seatCount"].as_u64(), body["seats"].as_array().unwrap().len(), body["nextFrom"].as_u64()),
            (Some(12_000), 5_000, Some(5_001))
        );
        let page = |from: &str, limit: &str| {
            let params = HashMap::from([("from".to_string(), from.to_string()), ("limit".to_string(), limit.to_string())]);
            seats_request(&user, cid, sid, None).with_query_string_parameters(params)
        };
        let (_, last) = read(handle(&app, page("11990", "100")).await);
        assert_eq!((last["seats"].as_array().unwrap().len(), last["nextFrom"].clone()), (11, serde_json::Value::Null));
        assert_eq!(last["seats"][10], json!({"number": 12_000, "status": "AVAILABLE"}));
        let (status, problem) = read(handle(&app, page("1", "5001")).await);
        assert_eq!((status, problem["code"].as_str()), (400, Some("INVALID_PAGE")));
    }

    #[tokio::test]
    async fn a_small_hall_lists_its_seats_only_and_a_page_past_its_end_is_empty_before_and_after_its_size_is_known() {
        let app = TestApp::spawn().await;
        let concert = app.concert(500, 1_000).await;
        let (cid, sid) = (concert.concert_id.as_str(), concert.schedules[0].schedule_id.as_str());
        let user = app.admitted_user(0).await;
        let past_the_end = || {
            let params = HashMap::from([("from".to_string(), "501".to_string()), ("limit".to_string(), "10".to_string())]);
            seats_request(&user, cid, sid, None).with_query_string_parameters(params)
        };
        // First a page past the end (the hall's size not yet known to this process), then the
        // whole hall (which learns it), then the page past the end again.
        let (status, body) = read(handle(&app, past_the_end()).await);
        assert_eq!((status, body["seats"].as_array().unwrap().len(), body["seatCount"].as_u64()), (200, 0, Some(500)));
        for _ in 0..2 {
            let (_, all) = read(handle(&app, seats_request(&user, cid, sid, None)).await);
            let seats = all["seats"].as_array().unwrap();
            assert_eq!((seats.len(), seats[499]["number"].as_u64(), all["nextFrom"].clone()), (500, Some(500), serde_json::Value::Null));
        }
        let (status, body) = read(handle(&app, past_the_end()).await);
        assert_eq!((status, body["seats"].as_array().unwrap().len(), body["seatCount"].as_u64()), (200, 0, Some(500)));
    }

    #[tokio::test]
    async fn unknown_or_malformed_ids_and_filters_are_refused() {
        let app = TestApp::spawn().await;
        let concert = app.concert(5, 1_000).await;
        let other = app.concert(5, 1_000).await;
        let sid = concert.schedules[0].schedule_id.as_str();
        let user = app.admitted_user_in(&concert.concert_id, 0).await;
        let cases = [
            (other.concert_id.as_str(), sid, None, 403, "QUEUE_TOKEN_WRONG_CONCERT"),
            (concert.concert_id.as_str(), other.schedules[0].schedule_id.as_str(), None, 404, "SCHEDULE_NOT_FOUND"),
            (concert.concert_id.as_str(), "0123456789abcdef0123456789abcdef", None, 404, "SCHEDULE_NOT_FOUND"),
            (concert.concert_id.as_str(), "not-an-id", None, 422, "INVALID_ID"),
            (concert.concert_id.as_str(), sid, Some("FREE"), 400, "INVALID_STATUS_FILTER"),
        ];
        for (c, s, filter, status, code) in cases {
            let (got, body) = read(handle(&app, seats_request(&user, c, s, filter)).await);
            assert_eq!((got, body["code"].as_str().unwrap()), (status, code));
        }
    }
}
