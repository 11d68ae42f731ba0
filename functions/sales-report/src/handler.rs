//! Operators: sold seats and revenue per schedule, as counted from the PaymentCompleted events
//! (GET /admin/sales). `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::api::SalesReportBody;
use ticketing::http::{json, HttpResult};
use ticketing::App;

pub async fn handle(app: &App, req: Request) -> HttpResult {
    app.authorize_operator(&req)?;
    Ok(json(200, &SalesReportBody::new(app.store.sales().await?)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use ticketing::domain::events::PaymentCompleted;
    use ticketing::testing::{read, request, TestApp};

    fn admin(key: Option<&str>) -> Request {
        let mut req = request(Method::GET, "/admin/sales", None);
        if let Some(key) = key {
            req.headers_mut().insert("x-admin-key", key.parse().unwrap());
        }
        req
    }

    #[tokio::test]
    async fn reports_the_ledger_to_operators_only() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 100).await;
        let event = PaymentCompleted::parse(
            serde_json::json!({
                "schemaVersion": 1, "type": "PaymentCompleted", "eventId": "e", "paymentId": "p",
                "reservationId": "r", "userId": "u", "concertId": concert.concert_id,
                "scheduleId": concert.schedules[0].schedule_id, "seatNumber": 1, "amount": 100,
                "paidAt": "2026-11-25T12:00:00.000Z"
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        app.store.outbox.apply_sale(&event).await.unwrap();
        let (status, body) = read(handle(&app, admin(Some("test-admin-key"))).await);
        assert_eq!((status, body["soldSeats"].as_u64(), body["revenue"].as_u64()), (200, Some(1), Some(100)));
        // The event was applied without a payment in this test, so the seat map shows none sold.
        assert_eq!(body["seatMapSold"], 0);
        assert_eq!(body["schedules"][0]["scheduleId"], concert.schedules[0].schedule_id.as_str());
        for key in [Some("nope"), None] {
            let (status, body) = read(handle(&app, admin(key)).await);
            assert_eq!((status, body["code"].as_str()), (401, Some("INVALID_ADMIN_KEY")), "{key:?}");
            assert!(body.get("soldSeats").is_none());
        }
    }
}
