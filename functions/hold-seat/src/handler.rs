//! Holds a seat for HOLD_SECONDS (POST /reservations).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use serde::Deserialize;
use ticketing::api::Reservation;
use ticketing::domain::ids::ScheduleId;
use ticketing::domain::inputs::SeatNumber;
use ticketing::domain::now_ms;
use ticketing::domain::tokens::QueueTicket;
use ticketing::http::{json, mark_replayed, parse_json, HttpResult};
use ticketing::App;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HoldRequest {
    schedule_id: String,
    seat_number: i64,
}

pub async fn handle(app: &App, req: Request) -> HttpResult {
    let ticket = app.admitted_caller(&req)?;
    app.on_booking_path(&ticket.concert, hold(app, &ticket, &req)).await
}

async fn hold(app: &App, ticket: &QueueTicket, req: &Request) -> HttpResult {
    let body: HoldRequest = parse_json(req)?;
    let schedule = ScheduleId::parse(&body.schedule_id)?;
    let seat = SeatNumber::parse(body.seat_number)?;
    let now = now_ms();
    let reservation = app.store.booking.hold(ticket, &schedule, seat, now, app.hold_policy()).await?;
    if reservation.held_at < now {
        // The caller's own hold of this seat, made by an earlier request whose answer was lost.
        let mut resp = json(200, &Reservation::at(&reservation, now));
        mark_replayed(&mut resp);
        return Ok(resp);
    }
    Ok(json(201, &Reservation::at(&reservation, now)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use serde_json::json;
    use ticketing::testing::{read, request, response, signed, TestApp, TestUser};

    fn hold_request(user: &TestUser, body: serde_json::Value) -> Request {
        signed(request(Method::POST, "/reservations", Some(body)), user)
    }

    #[tokio::test]
    async fn holds_a_free_seat_for_the_configured_time() {
        let app = TestApp::spawn_with(|c| c.booking.hold = std::time::Duration::from_secs(120)).await;
        let concert = app.concert(10, 5_000).await;
        let user = app.admitted_user(0).await;
        let sid = &concert.schedules[0].schedule_id;
        let (status, body) = read(handle(&app, hold_request(&user, json!({"scheduleId": sid, "seatNumber": 4}))).await);
        assert_eq!(status, 201, "{body}");
        assert_eq!((body["status"].as_str(), body["seatNumber"].as_u64(), body["price"].as_u64()), (Some("HELD"), Some(4), Some(5_000)));
        let held = humantime::parse_rfc3339(body["heldAt"].as_str().unwrap()).unwrap();
        let expires = humantime::parse_rfc3339(body["expiresAt"].as_str().unwrap()).unwrap();
        assert_eq!(expires.duration_since(held).unwrap().as_secs(), 120);
    }

    #[tokio::test]
    async fn a_taken_seat_is_409_and_bad_input_is_refused() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 5_000).await;
        let sid = concert.schedules[0].schedule_id.clone();
        let first = app.admitted_user(0).await;
        let second = app.admitted_user(0).await;
        assert_eq!(read(handle(&app, hold_request(&first, json!({"scheduleId": sid, "seatNumber": 1}))).await).0, 201);
        let unknown = "0123456789abcdef0123456789abcdef";
        for (body, status, code) in [
            (json!({"scheduleId": sid, "seatNumber": 1}), 409, "SEAT_TAKEN"),
            (json!({"scheduleId": sid, "seatNumber": 11}), 404, "SEAT_NOT_FOUND"),
            (json!({"scheduleId": sid, "seatNumber": 0}), 422, "INVALID_SEAT"),
            (json!({"scheduleId": unknown, "seatNumber": 1}), 404, "SCHEDULE_NOT_FOUND"),
            (json!({"scheduleId": "../../etc", "seatNumber": 1}), 422, "INVALID_ID"),
            (json!({"scheduleId": sid}), 400, "INVALID_BODY"),
        ] {
            let (got, problem) = read(handle(&app, hold_request(&second, body.clone())).await);
            assert_eq!((got, problem["code"].as_str().unwrap()), (status, code), "{body}");
        }
        // None of the refused attempts left anything in the second user's reservations.
        assert!(app.store.users.reservations(&second.id).await.unwrap().is_empty());
    }

    /// A client whose answer was lost (a timeout, a 503) asks again: it gets its hold back, not
    /// SEAT_TAKEN, and nothing is counted twice.
    #[tokio::test]
    async fn holding_again_a_seat_one_holds_answers_that_hold() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 5_000).await;
        let sid = concert.schedules[0].schedule_id.clone();
        let user = app.admitted_user(0).await;
        let (status, first) = read(handle(&app, hold_request(&user, json!({"scheduleId": sid, "seatNumber": 3}))).await);
        assert_eq!(status, 201, "{first}");
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        let resp = response(handle(&app, hold_request(&user, json!({"scheduleId": sid, "seatNumber": 3}))).await);
        assert_eq!((resp.status().as_u16(), resp.headers().get("idempotency-replayed").map(|v| v.to_str().unwrap())), (200, Some("true")));
        let again: serde_json::Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        assert_eq!(again, first, "the same hold, unchanged");
        let mine = app.store.users.reservations(&user.id).await.unwrap();
        assert_eq!(mine.len(), 1, "one reservation: {mine:?}");
        // The retry gave its claim back: three more seats still fit under the cap of four.
        for seat in 4..=6 {
            assert_eq!(read(handle(&app, hold_request(&user, json!({"scheduleId": sid, "seatNumber": seat}))).await).0, 201);
        }
        // Another fan asking for it still finds it taken.
        let other = app.admitted_user(0).await;
        let (status, body) = read(handle(&app, hold_request(&other, json!({"scheduleId": sid, "seatNumber": 3}))).await);
        assert_eq!((status, body["code"].as_str()), (409, Some("SEAT_TAKEN")));
    }

    #[tokio::test]
    async fn the_fifth_seat_is_over_the_cap() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 5_000).await;
        let sid = concert.schedules[0].schedule_id.clone();
        let user = app.admitted_user(0).await;
        for seat in 1..=4 {
            assert_eq!(read(handle(&app, hold_request(&user, json!({"scheduleId": sid, "seatNumber": seat}))).await).0, 201);
        }
        let (status, body) = read(handle(&app, hold_request(&user, json!({"scheduleId": sid, "seatNumber": 5}))).await);
        assert_eq!((status, body["code"].as_str()), (409, Some("SEAT_LIMIT_REACHED")));
        assert_eq!(app.store.users.reservations(&user.id).await.unwrap().len(), 4);
    }

    #[tokio::test]
    async fn only_active_queue_tokens_may_hold() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 5_000).await;
        let sid = &concert.schedules[0].schedule_id;
        let mut user = app.user().await;
        let (status, body) = read(handle(&app, hold_request(&user, json!({"scheduleId": sid, "seatNumber": 1}))).await);
        assert_eq!((status, body["code"].as_str().unwrap()), (401, "MISSING_QUEUE_TOKEN"));
        let someone_else = app.admitted_user(0).await;
        user.queue_token = someone_else.queue_token.clone();
        let (status, body) = read(handle(&app, hold_request(&user, json!({"scheduleId": sid, "seatNumber": 1}))).await);
        assert_eq!((status, body["code"].as_str().unwrap()), (401, "INVALID_QUEUE_TOKEN"));
    }
}
