//! Operators: changes a running waiting room (PATCH /admin/concerts/{concertId}/room) with any of
//! `{admitPerTick, activeCap, overbooking, paused, prequeueOpensAt, opensAt}`, applied from the
//! next tick with no redeploy. Pausing keeps every place; a rate of 0 is allowed; the sale times
//! may change until the sale opens. Every change is logged with its old and new values and kept in
//! the room's history. `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::api::{RoomChangedBody, RoomReport};
use ticketing::domain::admin::RoomUpdateRequest;
use ticketing::domain::ids::ConcertId;
use ticketing::domain::now_ms;
use ticketing::http::{json, parse_json, path_param, HttpResult};
use ticketing::App;

/// 200 with the change made and the room as it now stands.
pub async fn handle(app: &App, req: Request) -> HttpResult {
    app.authorize_operator(&req)?;
    let concert = ConcertId::parse(&path_param(&req, "concertId")?)?;
    let update = parse_json::<RoomUpdateRequest>(&req)?.validate()?;
    let now = now_ms();
    let change = app.store.queue.update(&concert, &update, now).await?;
    tracing::info!(concert = %concert, old = %change["old"], new = %change["new"], "room settings changed");
    let room = RoomReport::new(app.store.room_view(&concert, now).await?, now, app.admission());
    Ok(json(200, &RoomChangedBody { change, room }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::Method;
    use serde_json::json;
    use ticketing::testing::{read, request, with_path, TestApp};

    fn patch(id: &str, body: serde_json::Value) -> Request {
        let mut req = with_path(request(Method::PATCH, &format!("/admin/concerts/{id}/room"), Some(body)), &[("concertId", id)]);
        req.headers_mut().insert("x-admin-key", "test-admin-key".parse().unwrap());
        req
    }

    #[tokio::test]
    async fn a_change_applies_from_the_next_tick_and_is_logged_with_old_and_new_values() {
        let app = TestApp::spawn_with(|c| c.admission.admit_per_tick = 5).await;
        let concert = app.concert(100, 1_000).await;
        let id = concert.concert_id.as_str();
        for _ in 0..10 {
            app.waiting_user(0).await;
        }
        let (status, body) = read(handle(&app, patch(id, json!({"paused": true, "admitPerTick": 2}))).await);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["change"]["new"], json!({"paused": "1", "admitPerTick": "2"}));
        assert_eq!(body["change"]["old"], json!({"paused": null, "admitPerTick": null}));
        assert_eq!((body["room"]["status"].as_str(), body["room"]["admitPerTick"].as_u64()), (Some("PAUSED"), Some(2)));
        assert_eq!(app.admit_waiting().await.admitted, 0, "paused: every place kept, nobody admitted");

        let (_, body) = read(handle(&app, patch(id, json!({"paused": false}))).await);
        assert_eq!(body["change"]["old"]["paused"], "1");
        assert_eq!(app.admit_waiting().await.admitted, 2);
        let (_, body) = read(handle(&app, patch(id, json!({"overbooking": 2.0}))).await);
        assert_eq!(body["room"]["changes"].as_array().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn bad_changes_are_refused_and_change_nothing() {
        let app = TestApp::spawn().await;
        let concert = app.concert(10, 1_000).await;
        let id = concert.concert_id.as_str();
        for (body, status, code) in [
            (json!({"admitPerTick": -1}), 422, "INVALID_ROOM_SETTINGS"),
            (json!({"overbooking": 99}), 422, "INVALID_ROOM_SETTINGS"),
            (json!({}), 422, "INVALID_ROOM_SETTINGS"),
            (json!({"paused": "yes"}), 400, "INVALID_BODY"),
            (json!({"speed": 3}), 400, "INVALID_BODY"),
            (json!({"opensAt": "2020-01-01T00:00:00Z"}), 409, "SALE_ALREADY_OPEN"),
        ] {
            if code == "SALE_ALREADY_OPEN" {
                app.admit_waiting().await; // the first tick after the opening sets the order
            }
            let (got, problem) = read(handle(&app, patch(id, body.clone())).await);
            assert_eq!((got, problem["code"].as_str().unwrap()), (status, code), "{body}");
        }
        let room = app.store.room_view(&concert.concert_id, now_ms()).await.unwrap();
        assert!(room.snapshot.changes.is_empty(), "no refused change was logged");
        let (got, problem) = read(handle(&app, patch("0123456789abcdef0123456789abcdef", json!({"paused": true}))).await);
        assert_eq!((got, problem["code"].as_str().unwrap()), (404, "CONCERT_NOT_FOUND"));
    }
}
