//! Lists concerts with their schedules and available seats (GET /concerts).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use serde_json::json;
use ticketing::domain::now_ms;
use ticketing::http::{json, HttpResult};
use ticketing::App;

pub async fn handle(app: &App, req: Request) -> HttpResult {
    let ticket = app.admitted_caller(&req)?;
    let concerts = app.store.catalog.list_for(&ticket, now_ms()).await?;
    Ok(json(200, &json!({ "concerts": concerts })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use ticketing::domain::inputs::SeatNumber;
    use ticketing::testing::{read, request, signed, TestApp};

    #[tokio::test]
    async fn lists_schedules_with_available_seats() {
        let app = TestApp::spawn().await;
        let concert = app.concert(50, 80_000).await;
        let user = app.admitted_user(0).await;
        let schedule = concert.schedules[0].schedule_id.clone();
        let ticket = user.ticket.clone().unwrap();
        app.store.booking.hold(&ticket, &schedule, SeatNumber::parse(5).unwrap(), now_ms(), 60_000).await.unwrap();

        let (status, body) = read(handle(&app, signed(request(Method::GET, "/concerts", None), &user)).await);
        assert_eq!(status, 200);
        let s = &body["concerts"][0]["schedules"][0];
        assert_eq!(body["concerts"][0]["concertId"], concert.concert_id.as_str());
        assert_eq!((s["seatCount"].as_u64(), s["availableSeats"].as_u64(), s["price"].as_u64()), (Some(50), Some(49), Some(80_000)));
    }

    #[tokio::test]
    async fn a_waiting_token_gets_403_and_no_token_401() {
        let app = TestApp::spawn_with(|c| c.admit_per_tick = 1).await;
        app.admitted_user(0).await;
        let mut waiting = app.user().await;
        let (ticket, _) = app.store.queue.issue_ticket(&waiting.id, now_ms()).await.unwrap();
        waiting.queue_token = Some(app.signer.queue_token(&ticket));
        let (status, body) = read(handle(&app, signed(request(Method::GET, "/concerts", None), &waiting)).await);
        assert_eq!((status, body["code"].as_str().unwrap()), (403, "QUEUE_TOKEN_NOT_ACTIVE"));
        waiting.queue_token = None;
        let (status, body) = read(handle(&app, signed(request(Method::GET, "/concerts", None), &waiting)).await);
        assert_eq!((status, body["code"].as_str().unwrap()), (401, "MISSING_QUEUE_TOKEN"));
    }
}
