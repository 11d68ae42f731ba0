//! Lists the caller's holds and purchases (GET /users/me/reservations).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::api::ReservationsBody;
use ticketing::domain::now_ms;
use ticketing::http::{json, HttpResult};
use ticketing::App;

pub async fn handle(app: &App, req: Request) -> HttpResult {
    let user = app.authenticate(&req)?;
    let records = app.store.users.reservations(&user).await?;
    Ok(json(200, &ReservationsBody::at(&records, now_ms())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use ticketing::domain::inputs::SeatNumber;
    use ticketing::testing::policies::*;
    use ticketing::testing::{read, request, signed, TestApp};

    #[tokio::test]
    async fn shows_holds_and_purchases_newest_first() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 1_000).await;
        let schedule = concert.schedules[0].schedule_id.clone();
        let user = app.admitted_user(5_000).await;
        let ticket = user.ticket.clone().unwrap();
        let t0 = now_ms();
        let bought = app.store.booking.hold(&ticket, &schedule, SeatNumber::parse(1).unwrap(), t0, MINUTE_HOLD).await.unwrap();
        let held = app.store.booking.hold(&ticket, &schedule, SeatNumber::parse(2).unwrap(), t0 + 1, MINUTE_HOLD).await.unwrap();
        app.store.booking.pay(&ticket, &bought.reservation_id.clone(), None, now_ms()).await.unwrap();

        let (status, body) = read(handle(&app, signed(request(Method::GET, "/users/me/reservations", None), &user)).await);
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
        let (status, body) = read(handle(&app, signed(request(Method::GET, "/users/me/reservations", None), &user)).await);
        assert_eq!((status, body["reservations"].as_array().unwrap().len()), (200, 0));
        let (status, body) = read(handle(&app, request(Method::GET, "/users/me/reservations", None)).await);
        assert_eq!((status, body["code"].as_str()), (401, Some("MISSING_TOKEN")));
    }
}
