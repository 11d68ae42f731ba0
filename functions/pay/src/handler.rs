//! Pays a held seat from the balance (POST /payments).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use serde::Deserialize;
use ticketing::api::PaymentBody;
use ticketing::domain::ids::ReservationId;
use ticketing::domain::now_ms;
use ticketing::domain::tokens::QueueTicket;
use ticketing::http::{idempotency_key, json, mark_replayed, parse_json, HttpResult};
use ticketing::App;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PayRequest {
    reservation_id: String,
}

/// 201 for a new payment; 200 with the same payment for a retry, which charges nothing. The
/// payment's event is in its schedule's outbox before the answer; when the app has a Kafka
/// producer it is published at once in the background (the answer does not wait for Kafka), and
/// whatever is not, the relay publishes.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    let ticket = app.admitted_caller(&req)?;
    app.on_booking_path(&ticket.concert, pay(app, &ticket, &req)).await
}

async fn pay(app: &App, ticket: &QueueTicket, req: &Request) -> HttpResult {
    let key = idempotency_key(req)?;
    let body: PayRequest = parse_json(req)?;
    let reservation = ReservationId::parse(&body.reservation_id)?;
    let paid = app.store.booking.pay(ticket, &reservation, key.as_ref(), now_ms()).await?;
    if let (Some(events), Some(entry)) = (app.events(), &paid.event) {
        events.publish_in_background(app.store.outbox.clone(), entry.clone());
    }
    let mut resp = json(if paid.replayed { 200 } else { 201 }, &PaymentBody::from(&paid.payment));
    if paid.replayed {
        mark_replayed(&mut resp);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use serde_json::json;
    use ticketing::domain::ids::ScheduleId;
    use ticketing::domain::inputs::SeatNumber;
    use ticketing::domain::queue::QueuePosition;
    use ticketing::testing::policies::*;
    use ticketing::testing::{read, request, signed, TestApp, TestUser};

    fn pay_request(user: &TestUser, reservation: &str, key: Option<&str>) -> Request {
        let mut req = signed(request(Method::POST, "/payments", Some(json!({ "reservationId": reservation }))), user);
        if let Some(key) = key {
            req.headers_mut().insert("idempotency-key", key.parse().unwrap());
        }
        req
    }

    /// A concert of `seats` seats at `price`, and its schedule.
    async fn show(app: &TestApp, seats: u32, price: u64) -> ScheduleId {
        app.concert(seats, price).await.schedules[0].schedule_id.clone()
    }

    async fn held(app: &TestApp, user: &TestUser, schedule: &ScheduleId, seat: i64) -> String {
        let ticket = user.ticket.as_ref().unwrap();
        let r = app.store.booking.hold(ticket, schedule, SeatNumber::parse(seat).unwrap(), now_ms(), MINUTE_HOLD_FOUR_SEATS).await;
        r.unwrap().reservation_id.to_string()
    }

    #[tokio::test]
    async fn pays_sells_the_seat_and_ends_the_queue_token() {
        let app = TestApp::spawn().await;
        let schedule = show(&app, 5, 30_000).await;
        let user = app.admitted_user(50_000).await;
        let reservation = held(&app, &user, &schedule, 1).await;
        let (status, body) = read(handle(&app, pay_request(&user, &reservation, Some("k1"))).await);
        assert_eq!(status, 201, "{body}");
        assert_eq!((body["amount"].as_u64(), body["balanceAfter"].as_u64()), (Some(30_000), Some(20_000)));
        assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 20_000);
        let ticket = user.ticket.as_ref().unwrap();
        assert_eq!(app.store.queue.position(ticket, now_ms()).await.unwrap(), QueuePosition::Expired, "no live hold left: the token ends");

        // A retry, with or without the key, after the token ended: the same payment, no charge.
        for key in [Some("k1"), None] {
            let resp = handle(&app, pay_request(&user, &reservation, key)).await.unwrap();
            assert_eq!(resp.headers()["idempotency-replayed"], "true");
            let (status, again) = read(resp);
            assert_eq!((status, &again["paymentId"]), (200, &body["paymentId"]));
        }
        assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 20_000);
    }

    #[tokio::test]
    async fn a_fan_with_two_holds_pays_both_on_one_token() {
        let app = TestApp::spawn().await;
        let schedule = show(&app, 5, 10_000).await;
        let user = app.admitted_user(50_000).await;
        let (first, second) = (held(&app, &user, &schedule, 1).await, held(&app, &user, &schedule, 2).await);
        assert_eq!(read(handle(&app, pay_request(&user, &first, None)).await).0, 201);
        let ticket = user.ticket.as_ref().unwrap();
        assert!(matches!(app.store.queue.position(ticket, now_ms()).await.unwrap(), QueuePosition::Active { .. }), "a hold is still live");
        assert_eq!(read(handle(&app, pay_request(&user, &second, None)).await).0, 201);
        assert_eq!(app.store.queue.position(ticket, now_ms()).await.unwrap(), QueuePosition::Expired);
        assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 30_000);
    }

    #[tokio::test]
    async fn a_short_balance_is_409_and_charges_nothing() {
        let app = TestApp::spawn().await;
        let schedule = show(&app, 5, 30_000).await;
        let user = app.admitted_user(100).await;
        let reservation = held(&app, &user, &schedule, 1).await;
        let (status, body) = read(handle(&app, pay_request(&user, &reservation, None)).await);
        assert_eq!((status, body["code"].as_str().unwrap()), (409, "INSUFFICIENT_BALANCE"));
        assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 100);
    }

    #[tokio::test]
    async fn nobody_pays_for_a_seat_they_do_not_hold() {
        let app = TestApp::spawn().await;
        let schedule = show(&app, 5, 30_000).await;
        let owner = app.admitted_user(50_000).await;
        let other = app.admitted_user(50_000).await;
        let reservation = held(&app, &owner, &schedule, 1).await;
        let unknown = "0123456789abcdef0123456789abcdef";
        for (who, id, status, code) in [
            (&other, reservation.as_str(), 404, "RESERVATION_NOT_FOUND"),
            (&owner, unknown, 404, "RESERVATION_NOT_FOUND"),
            (&owner, "nope", 422, "INVALID_ID"),
        ] {
            let (got, body) = read(handle(&app, pay_request(who, id, None)).await);
            assert_eq!((got, body["code"].as_str().unwrap()), (status, code));
        }
        assert_eq!(app.store.users.balance(&other.id).await.unwrap(), 50_000);
    }

    #[tokio::test]
    async fn another_concerts_token_cannot_pay() {
        let app = TestApp::spawn().await;
        let schedule = show(&app, 5, 1_000).await;
        let mut user = app.admitted_user(50_000).await;
        let reservation = held(&app, &user, &schedule, 1).await;
        let elsewhere = app.concert(5, 1_000).await;
        // The same fan's token for another room.
        let ticket = app.store.queue.join(&user.id, &elsewhere.concert_id, now_ms()).await.unwrap().ticket;
        ticketing::testing::grant_active(&app.store, &ticket, now_ms() + 60_000).await.unwrap();
        user.queue_token = Some(app.signer().unwrap().queue_token(&ticket));
        let (status, body) = read(handle(&app, pay_request(&user, &reservation, None)).await);
        assert_eq!((status, body["code"].as_str()), (403, Some("QUEUE_TOKEN_WRONG_CONCERT")));
        assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 50_000);
    }

    #[tokio::test]
    async fn an_idempotency_key_cannot_pay_a_second_reservation() {
        let app = TestApp::spawn().await;
        let schedule = show(&app, 5, 10_000).await;
        let user = app.admitted_user(100_000).await;
        let first = held(&app, &user, &schedule, 1).await;
        let second = held(&app, &user, &schedule, 2).await;
        assert_eq!(read(handle(&app, pay_request(&user, &first, Some("same"))).await).0, 201);
        let (status, body) = read(handle(&app, pay_request(&user, &second, Some("same"))).await);
        assert_eq!((status, body["code"].as_str().unwrap()), (422, "IDEMPOTENCY_KEY_REUSED"));
        assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 90_000);
        assert_eq!(read(handle(&app, pay_request(&user, &second, Some("other"))).await).0, 201);
        assert_eq!(app.store.users.balance(&user.id).await.unwrap(), 80_000);
    }
}
