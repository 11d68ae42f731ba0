//! Lists the seats of a schedule (GET /concerts/{concertId}/schedules/{scheduleId}/seats).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use serde_json::json;
use ticketing::domain::ids::{ConcertId, ScheduleId};
use ticketing::domain::models::SeatStatus;
use ticketing::domain::now_ms;
use ticketing::http::{json, path_param, query_param, HttpResult};
use ticketing::{ApiError, App, ErrorCode};

pub async fn handle(app: &App, req: Request) -> HttpResult {
    let ticket = app.admitted_caller(&req)?;
    let concert = ConcertId::parse(&path_param(&req, "concertId")?)?;
    let schedule = ScheduleId::parse(&path_param(&req, "scheduleId")?)?;
    let only = match query_param(&req, "status").as_deref() {
        None => None,
        Some("AVAILABLE") => Some(SeatStatus::Available),
        Some("HELD") => Some(SeatStatus::Held),
        Some("SOLD") => Some(SeatStatus::Sold),
        Some(_) => return Err(ApiError::new(ErrorCode::InvalidStatusFilter, "status must be AVAILABLE, HELD or SOLD")),
    };
    let mut seats = app.store.booking.seat_map(&ticket, &concert, &schedule, now_ms()).await?;
    if let Some(only) = only {
        seats.retain(|s| s.status == only);
    }
    Ok(json(200, &json!({ "concertId": concert, "scheduleId": schedule, "seats": seats })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use lambda_http::RequestExt;
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
            .hold(user.ticket.as_ref().unwrap(), &schedule, SeatNumber::parse(3).unwrap(), now_ms(), 60_000, 100)
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
