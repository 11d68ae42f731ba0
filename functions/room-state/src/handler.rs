//! A waiting room's public state (GET /concerts/{concertId}/room): its status, the fans admitted
//! since it opened, the measured admission rate, the fastest the line can move at the room's
//! settings and the line's length. The same answer for every fan, so a CDN serves a whole line
//! from one copy a second: a waiting fan computes its position (`place` from its own status, minus
//! `admittedTotal`) and ETA from it, and asks for its own status only when its turn could come
//! within a minute (paused or not) and every `heartbeatSeconds`. No token needed.
//! `main.rs` runs this handler on Lambda; the local gateway calls it in-process.

use lambda_http::Request;
use ticketing::api::RoomState;
use ticketing::domain::ids::ConcertId;
use ticketing::domain::now_ms;
use ticketing::http::{json, path_param, public_for, HttpResult};
use ticketing::App;

/// How long browsers and CDNs may keep the answer: one admission tick.
pub const CACHE_SECONDS: u64 = 1;

pub async fn handle(app: &App, req: Request) -> HttpResult {
    let concert = ConcertId::parse(&path_param(&req, "concertId")?)?;
    // A third of the time after which an unpolled place is dropped: a missed heartbeat is not fatal.
    let heartbeat = (app.config.admission.wait_abandon.as_secs() / 3).max(1);
    let now = now_ms();
    let state = RoomState::new(app.store.public_room(&concert, now).await?, app.admission(), heartbeat, now);
    Ok(public_for(json(200, &state), CACHE_SECONDS))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticketing::domain::queue::QueuePosition;
    use ticketing::testing::{concert_get, read, TestApp};

    #[tokio::test]
    async fn a_waiting_fan_finds_its_position_from_the_public_state_and_its_place() {
        let app = TestApp::spawn_with(|c| {
            c.admission.admit_per_tick = 3;
            c.admission.wait_abandon = std::time::Duration::from_secs(1800);
        })
        .await;
        let concert = app.concert(50, 1_000).await;
        let mut fans = Vec::new();
        for _ in 0..10 {
            fans.push(app.waiting_user(0).await);
        }
        let last = fans[9].ticket.clone().unwrap();
        let QueuePosition::Waiting { place, .. } = app.store.queue.position(&last, now_ms()).await.unwrap() else { panic!() };
        assert_eq!(place, 10);
        app.admit_waiting().await;

        let resp = handle(&app, concert_get("/concerts/{concertId}/room", concert.concert_id.as_str())).await.unwrap();
        assert_eq!(resp.headers()["cache-control"], "public, max-age=1, s-maxage=1, stale-while-revalidate=6");
        let (status, state) = read(resp);
        assert_eq!(status, 200, "{state}");
        assert_eq!(
            (state["status"].as_str(), state["admittedTotal"].as_u64(), state["waiting"].as_u64()),
            (Some("OPEN"), Some(3), Some(7))
        );
        assert_eq!((state["admittedPerSecond"].as_f64(), state["heartbeatSeconds"].as_u64()), (Some(3.0), Some(600)));
        // The fan's own status agrees with what it derives from the public state.
        let QueuePosition::Waiting { position, .. } = app.store.queue.position(&last, now_ms()).await.unwrap() else { panic!() };
        assert_eq!(place - state["admittedTotal"].as_u64().unwrap(), position);

        // The pace a fan may assume while no rate is known or the room is paused: the room's
        // admissions per tick, its own setting once the operator gives it one.
        let tick_seconds = app.config.admission.tick.as_secs_f64();
        assert_eq!(state["admissionPacePerSecond"].as_f64(), Some(3.0 / tick_seconds));
        assert_eq!(state["opensAt"].as_str(), Some(concert.sale.opens_at.as_str()));
        let update = ticketing::domain::admin::RoomUpdate(vec![("admitPerTick", "40".into()), ("paused", "1".into())]);
        app.store.queue.update(&concert.concert_id, &update, now_ms()).await.unwrap();
        let (_, state) = read(handle(&app, concert_get("/concerts/{concertId}/room", concert.concert_id.as_str())).await);
        assert_eq!((state["status"].as_str(), state["admissionPacePerSecond"].as_f64()), (Some("PAUSED"), Some(40.0 / tick_seconds)));
    }

    #[tokio::test]
    async fn unknown_and_malformed_ids_are_refused() {
        let app = TestApp::spawn().await;
        for (id, status, code) in [("0123456789abcdef0123456789abcdef", 404, "CONCERT_NOT_FOUND"), ("x", 422, "INVALID_ID")] {
            let (got, body) = read(handle(&app, concert_get("/concerts/{concertId}/room", id)).await);
            assert_eq!((got, body["code"].as_str().unwrap()), (status, code));
        }
    }
}
