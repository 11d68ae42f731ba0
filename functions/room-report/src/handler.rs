//! Operators: a room's sale summed up (GET /admin/concerts/{concertId}/report?format=json|csv):
//! the time from the opening to the sell-out, seats sold per minute, the fans who joined, were
//! admitted, dropped or told it sold out, the queue wait's quantiles, seats per admitted fan,
//! revenue and refunds due, the operator's changes and the autopilot's decisions. Every figure is
//! a counter the room keeps as it goes, so the report costs a few reads whatever the crowd, and it
//! stays readable after the room closes. `?format=csv` answers one figure a row for a spreadsheet.
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use lambda_http::{Body, Request, Response};
use ticketing::api::SaleReportBody;
use ticketing::domain::ids::ConcertId;
use ticketing::domain::now_ms;
use ticketing::error::{ApiError, ErrorCode};
use ticketing::http::{json, path_param, query_param, HttpResult};
use ticketing::App;

/// 200 with the report (JSON, or CSV with `format=csv`); 401 `INVALID_ADMIN_KEY`, 404
/// `CONCERT_NOT_FOUND`, 422 `INVALID_ID`, 400 `INVALID_FORMAT`.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    app.authorize_operator(&req)?;
    let concert = ConcertId::parse(&path_param(&req, "concertId")?)?;
    let csv = match query_param(&req, "format").as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return Err(ApiError::new(ErrorCode::InvalidFormat, "format must be json or csv")),
    };
    let now = now_ms();
    let body = SaleReportBody::new(app.store.sale_report(&concert, now).await?, now);
    let mut resp = if csv {
        let mut resp = Response::new(Body::Text(body.to_csv()));
        resp.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
        let file = format!("attachment; filename=\"report-{concert}.csv\"");
        resp.headers_mut().insert(CONTENT_DISPOSITION, file.parse().expect("an ASCII header"));
        resp
    } else {
        json(200, &body)
    };
    resp.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use lambda_http::RequestExt;
    use std::collections::HashMap;
    use ticketing::domain::inputs::SeatNumber;
    use ticketing::testing::{read, request, with_path, TestApp};

    fn get(id: &str, key: Option<&str>, format: Option<&str>) -> Request {
        let mut req = with_path(request(Method::GET, &format!("/admin/concerts/{id}/report"), None), &[("concertId", id)]);
        if let Some(key) = key {
            req.headers_mut().insert("x-admin-key", key.parse().unwrap());
        }
        match format {
            Some(f) => req.with_query_string_parameters(HashMap::from([("format".to_string(), f.to_string())])),
            None => req,
        }
    }

    /// A small sale from the line to the last seat: the report's figures are what happened.
    #[tokio::test]
    async fn the_report_sums_up_a_sale_from_the_line_to_the_sell_out() {
        let app = TestApp::spawn_with(|c| c.admission.admit_per_tick = 10).await;
        let concert = app.concert(2, 1_000).await;
        let (c, schedule) = (concert.concert_id.as_str(), concert.schedules[0].schedule_id.clone());
        let buyers = [app.waiting_user(10_000).await, app.waiting_user(10_000).await];
        let late = app.waiting_user(0).await;
        app.admit_waiting().await;
        app.store.queue.leave(late.ticket.as_ref().unwrap()).await.unwrap();
        for (i, buyer) in buyers.iter().enumerate() {
            let ticket = buyer.ticket.as_ref().unwrap();
            let seat = SeatNumber::parse(i as i64 + 1).unwrap();
            let held = app
                .store
                .booking
                .hold(ticket, &schedule, seat, now_ms(), ticketing::testing::policies::MINUTE_HOLD_FOUR_SEATS)
                .await
                .unwrap();
            app.store.booking.pay(ticket, &held.reservation_id, None, now_ms()).await.unwrap();
        }
        app.admit_waiting().await; // the tick that finds every seat sold
                                   // A fan of the room refused twice on the booking path (its queue token named the room).
        for _ in 0..2 {
            let refused = async {
                ticketing::http::note_room(&concert.concert_id);
                Err(ticketing::error::ApiError::new(ticketing::error::ErrorCode::SeatTaken, "taken"))
            };
            assert_eq!(ticketing::http::answer(&app, refused).await.status(), 409);
        }

        let (status, body) = read(handle(&app, get(c, Some("test-admin-key"), None)).await);
        assert_eq!(status, 200, "{body}");
        assert_eq!((body["status"].as_str(), body["title"].as_str()), (Some("SOLD_OUT"), Some("Test Concert")));
        assert_eq!(body["seats"], serde_json::json!({"total": 2, "available": 0, "held": 0, "sold": 2}));
        let fans = &body["fans"];
        assert_eq!((fans["joined"].as_u64(), fans["admitted"].as_u64(), fans["prequeue"].as_u64()), (Some(3), Some(3), Some(0)));
        assert_eq!(body["seatsPerAdmittedFan"], 0.67);
        assert_eq!((fans["held"].as_u64(), fans["bought"].as_u64(), fans["conversion"].as_f64()), (Some(2), Some(2), Some(0.667)));
        assert_eq!((fans["leftLine"].as_u64(), fans["leftAfterAdmission"].as_u64()), (Some(0), Some(1)), "the late fan left once in");
        assert_eq!(body["bookingPath"]["count"], 2, "both buyers' tokens ended with their payment");
        assert_eq!(body["bookingPath"]["p50SecondsAtMost"], 1);
        assert_eq!(body["holds"]["holdToPayment"]["count"], 2);
        assert_eq!(body["holds"]["lapsedSeats"], 0);
        assert_eq!(body["errors"], serde_json::json!([{"status": 409, "code": "SEAT_TAKEN", "count": 2}]));
        assert_eq!(body["queueWait"]["admitted"], 3);
        assert_eq!(body["queueWait"]["p50SecondsAtMost"], 1, "admitted within a second of joining");
        let minutes = body["salesPerMinute"].as_array().unwrap();
        assert_eq!(minutes.iter().map(|m| m["seats"].as_u64().unwrap()).sum::<u64>(), 2);
        assert!(body["timeline"]["secondsToSellOut"].as_f64().is_some(), "{body}");
        assert!(body["timeline"]["soldOutAt"].is_string());

        let resp = handle(&app, get(c, Some("test-admin-key"), Some("csv"))).await.unwrap();
        assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
        assert!(resp.headers()["content-disposition"].to_str().unwrap().contains(&format!("report-{c}.csv")));
        let Body::Text(csv) = resp.body() else { panic!("CSV is text") };
        assert!(csv.starts_with("section,figure,value\r\n"), "{csv}");
        assert!(csv.contains("\r\nseats,sold,2\r\n"), "{csv}");
        assert!(csv.contains("\r\nfans,admitted,3\r\n"), "{csv}");
        assert!(csv.contains("\r\nbookingPath,count,2\r\n"), "{csv}");
        assert!(csv.contains("\r\nerrors,409 SEAT_TAKEN,2\r\n"), "{csv}");
        assert!(csv.contains("\r\nconcert,title,\"Test Concert\"\r\n"), "{csv}");
    }

    #[tokio::test]
    async fn only_operators_only_real_rooms_and_known_formats() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 1_000).await;
        let c = concert.concert_id.as_str();
        for (id, key, format, status, code) in [
            (c, None, None, 401, "INVALID_ADMIN_KEY"),
            ("0123456789abcdef0123456789abcdef", Some("test-admin-key"), None, 404, "CONCERT_NOT_FOUND"),
            ("nope", Some("test-admin-key"), None, 422, "INVALID_ID"),
            (c, Some("test-admin-key"), Some("xml"), 400, "INVALID_FORMAT"),
        ] {
            let (got, body) = read(handle(&app, get(id, key, format)).await);
            assert_eq!((got, body["code"].as_str().unwrap()), (status, code));
        }
    }
}
