//! Lists the caller's holds and purchases (GET /users/me/reservations).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::{Body, Error, Request, Response};
use serde_json::json;
use ticketing::domain::now_ms;
use ticketing::http::{finish, json};
use ticketing::{ApiError, App};

pub async fn handle(app: &App, req: Request) -> Result<Response<Body>, Error> {
    finish(list(app, &req).await)
}

async fn list(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let user = app.authenticate(req)?;
    let reservations = app.store.reservations_of(&user, now_ms()).await?;
    Ok(json(200, &json!({ "reservations": reservations })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use ticketing::domain::ids::{ReservationId, ScheduleId};
    use ticketing::domain::inputs::SeatNumber;
    use ticketing::testing::{read, request, signed, TestApp};

    #[tokio::test]
    async fn shows_holds_and_purchases_newest_first() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 1_000).await;
        let schedule = ScheduleId::parse(&concert.schedules[0].schedule_id).unwrap();
        let user = app.admitted_user(5_000).await;
        let ticket = user.ticket.clone().unwrap();
        let t0 = now_ms();
        let bought = app.store.hold_seat(&ticket, &schedule, SeatNumber::parse(1).unwrap(), t0, 60_000).await.unwrap();
        let held = app.store.hold_seat(&ticket, &schedule, SeatNumber::parse(2).unwrap(), t0 + 1, 60_000).await.unwrap();
        app.store.pay(&ticket, &ReservationId::parse(&bought.reservation_id).unwrap(), None, now_ms()).await.unwrap();

        let (status, body) = read(handle(&app, signed(request(Method::GET, "/users/me/reservations", None), &user)).await.unwrap());
        assert_eq!(status, 200);
        let list = body["reservations"].as_array().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!((list[0]["reservationId"].as_str(), list[0]["status"].as_str()), (Some(held.reservation_id.as_str()), Some("HELD")));
        assert_eq!((list[1]["status"].as_str(), list[1]["seatNumber"].as_u64()), (Some("PAID"), Some(1)));
        assert!(list[1]["paymentId"].is_string());
    }

    #[tokio::test]
    async fn a_new_user_has_none_and_strangers_get_401() {
        let app = TestApp::spawn().await;
        let user = app.user().await;
        let (status, body) = read(handle(&app, signed(request(Method::GET, "/users/me/reservations", None), &user)).await.unwrap());
        assert_eq!((status, body["reservations"].as_array().unwrap().len()), (200, 0));
        assert_eq!(read(handle(&app, request(Method::GET, "/users/me/reservations", None)).await.unwrap()).0, 401);
    }
}
