//! Operators: creates a concert with schedules and seats (POST /admin/concerts).
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::domain::admin::NewConcertRequest;
use ticketing::domain::now_ms;
use ticketing::http::{json, parse_json, HttpResult};
use ticketing::App;

/// 201 with the concert and its sale window; its waiting room exists from then on.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    app.authorize_operator(&req)?;
    let body: NewConcertRequest = parse_json(&req)?;
    let (concert, sale) = body.into_concert(now_ms())?;
    app.store.create_concert(&concert, sale).await?;
    tracing::info!(concert = %concert.concert_id, opens_at = %concert.sale.opens_at, "concert created");
    Ok(json(201, &concert))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use serde_json::json;
    use ticketing::testing::{read, request, TestApp};

    fn admin_request(key: Option<&str>, body: serde_json::Value) -> Request {
        let mut req = request(Method::POST, "/admin/concerts", Some(body));
        if let Some(key) = key {
            req.headers_mut().insert("x-admin-key", key.parse().unwrap());
        }
        req
    }

    fn concert() -> serde_json::Value {
        json!({"title": "Winter Live", "venue": "Hall", "schedules": [
            {"startsAt": "2026-12-24T19:00:00Z", "price": 50000, "seatCount": 50},
            {"startsAt": "2026-12-25T19:00:00Z", "price": 60000, "seatCount": 40}
        ]})
    }

    #[tokio::test]
    async fn operators_create_concerts_fans_can_list() {
        let app = TestApp::spawn().await;
        let (status, body) = read(handle(&app, admin_request(Some("test-admin-key"), concert())).await);
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["schedules"].as_array().unwrap().len(), 2);
        let stored = app.store.catalog.concerts().await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].concert_id.as_str(), body["concertId"].as_str().unwrap());
        assert_eq!(app.store.catalog.schedule_ids().await.unwrap().len(), 2);
        // Its waiting room opened with it: the sale is on now, so a fan can queue at once.
        assert_eq!(body["sale"]["opensAt"], body["sale"]["prequeueOpensAt"]);
        let concert = stored[0].concert_id.clone();
        let fan = app.user().await;
        assert!(app.store.queue.join(&fan.id, &concert, now_ms()).await.unwrap().created);
    }

    #[tokio::test]
    async fn a_sale_window_is_kept_and_checked() {
        let app = TestApp::spawn().await;
        let mut body = concert();
        body["prequeueOpensAt"] = "2030-01-01T09:00:00Z".into();
        body["opensAt"] = "2030-01-01T10:00:00Z".into();
        let (status, created) = read(handle(&app, admin_request(Some("test-admin-key"), body.clone())).await);
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["sale"], json!({"prequeueOpensAt": "2030-01-01T09:00:00.000Z", "opensAt": "2030-01-01T10:00:00.000Z"}));
        body["prequeueOpensAt"] = "2030-01-01T11:00:00Z".into();
        let (status, problem) = read(handle(&app, admin_request(Some("test-admin-key"), body)).await);
        assert_eq!((status, problem["code"].as_str()), (422, Some("INVALID_SALE_WINDOW")));
        assert_eq!(app.store.catalog.concerts().await.unwrap().len(), 1, "the refused concert was not stored");
    }

    #[tokio::test]
    async fn without_the_key_or_with_bad_data_nothing_is_created() {
        let app = TestApp::spawn().await;
        for (key, body, status, code) in [
            (None, concert(), 401, "INVALID_ADMIN_KEY"),
            (Some("wrong"), concert(), 401, "INVALID_ADMIN_KEY"),
            (Some("test-admin-key"), json!({"title": "x", "schedules": []}), 422, "INVALID_SCHEDULES"),
            (Some("test-admin-key"), json!({"title": "x"}), 400, "INVALID_BODY"),
        ] {
            let (got, problem) = read(handle(&app, admin_request(key, body)).await);
            assert_eq!((got, problem["code"].as_str().unwrap()), (status, code));
        }
        assert!(app.store.catalog.concerts().await.unwrap().is_empty());
        let disabled = TestApp::spawn_with(|c| c.auth.admin_key = None).await;
        let (got, problem) = read(handle(&disabled, admin_request(Some("anything"), concert())).await);
        assert_eq!((got, problem["code"].as_str().unwrap()), (403, "ADMIN_DISABLED"));
    }
}
