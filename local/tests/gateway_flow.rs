//! The whole flow over HTTP through the gateway, with admission running inside it, against the
//! real Redis.

use std::time::{Duration, Instant};

use local_stack::client;
use serde_json::{json, Value};
use ticketing::testing::TestApp;

/// One request from 127.0.0.1 (`local_stack::client`).
async fn call(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> (u16, Value, String) {
    call_from("127.0.0.1", addr, method, path, headers, body).await
}

/// [`call`] from the loopback address `from` (any of 127.0.0.0/8).
async fn call_from(
    from: &str,
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (u16, Value, String) {
    let answer = client::call_from(from.parse().unwrap(), addr.parse().unwrap(), method, path, headers, body.as_ref()).await.unwrap();
    (answer.status, answer.body, answer.head)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signup_to_payment_through_the_gateway() {
    let app = TestApp::spawn_with(|c| {
        c.admission.tick = Duration::from_millis(100);
        c.admission.admit_per_tick = 5;
    })
    .await;
    let app: &'static TestApp = Box::leak(Box::new(app));
    let addr = local_stack::gateway::start(&app.app, "127.0.0.1:0".parse().unwrap()).await.unwrap().to_string();

    let concert = json!({"title": "Gateway Live", "venue": "Hall", "schedules": [{"startsAt": "2030-01-01T19:00:00Z", "price": 30000, "seatCount": 50}]});
    let (status, created, _) = call(&addr, "POST", "/admin/concerts", &[("x-admin-key", "test-admin-key")], Some(concert)).await;
    assert_eq!(status, 201, "{created}");

    let (status, user, _) = call(&addr, "POST", "/users", &[], Some(json!({"name": "Kim"}))).await;
    assert_eq!(status, 201);
    let bearer = format!("Bearer {}", user["accessToken"].as_str().unwrap());
    let auth = [("authorization", bearer.as_str())];
    let (status, charged, _) = call(&addr, "POST", "/users/me/balance", &auth, Some(json!({"amount": 100000}))).await;
    assert_eq!((status, charged["balance"].as_u64()), (200, Some(100_000)));
    // The public catalog needs no token; the fan queues for the concert they picked.
    let (status, concerts, head) = call(&addr, "GET", "/concerts", &[], None).await;
    assert_eq!(status, 200);
    assert!(head.contains("cache-control: public"), "{head}");
    let c = &concerts["concerts"][0];
    assert_eq!(c["roomStatus"], "OPEN");
    let (cid, sid) = (c["concertId"].as_str().unwrap().to_owned(), c["schedules"][0]["scheduleId"].as_str().unwrap().to_owned());
    let (status, one, _) = call(&addr, "GET", &format!("/concerts/{cid}"), &[], None).await;
    assert_eq!((status, one["title"].as_str()), (200, Some("Gateway Live")));
    let (status, token, _) = call(&addr, "POST", "/queue/tokens", &auth, Some(json!({ "concertId": cid }))).await;
    assert_eq!(status, 201, "{token}");
    let queue_token = token["queueToken"].as_str().unwrap().to_owned();
    let both = [("authorization", bearer.as_str()), ("queue-token", queue_token.as_str())];

    // The activation schedule runs inside the gateway: the token turns ACTIVE by itself.
    let started = Instant::now();
    loop {
        let (status, body, _) = call(&addr, "GET", "/queue/tokens/current", &both, None).await;
        assert_eq!(status, 200);
        if body["status"] == "ACTIVE" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never admitted: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let seats_path = format!("/concerts/{cid}/schedules/{sid}/seats?status=AVAILABLE");
    let (status, seats, _) = call(&addr, "GET", &seats_path, &both, None).await;
    assert_eq!((status, seats["seats"].as_array().unwrap().len()), (200, 50));

    let (status, held, _) = call(&addr, "POST", "/reservations", &both, Some(json!({"scheduleId": sid, "seatNumber": 12}))).await;
    assert_eq!(status, 201, "{held}");
    // Asked again (an answer lost on the way): the same hold, not a second one.
    let (status, again, head) = call(&addr, "POST", "/reservations", &both, Some(json!({"scheduleId": sid, "seatNumber": 12}))).await;
    assert_eq!((status, &again["reservationId"]), (200, &held["reservationId"]));
    assert!(head.contains("idempotency-replayed: true"), "{head}");
    let pay_headers = [("authorization", bearer.as_str()), ("queue-token", queue_token.as_str()), ("idempotency-key", "pay-1")];
    let (status, paid, _) = call(&addr, "POST", "/payments", &pay_headers, Some(json!({"reservationId": held["reservationId"]}))).await;
    assert_eq!((status, paid["balanceAfter"].as_u64()), (201, Some(70_000)), "{paid}");

    let (_, balance, _) = call(&addr, "GET", "/users/me/balance", &auth, None).await;
    assert_eq!(balance["balance"], 70_000);
    let (_, mine, _) = call(&addr, "GET", "/users/me/reservations", &auth, None).await;
    assert_eq!(mine["reservations"][0]["status"], "PAID");
    let (_, seats, _) = call(
        &addr,
        "GET",
        &seats_path.replace("AVAILABLE", "SOLD"),
        &[("authorization", bearer.as_str()), ("queue-token", queue_token.as_str())],
        None,
    )
    .await;
    // The payment left the fan no hold, so it ended the queue token: the seat map is closed to it.
    assert_eq!(seats["code"], "QUEUE_TOKEN_EXPIRED");
    let (_, room, _) = call(&addr, "GET", &format!("/admin/concerts/{cid}/room"), &[("x-admin-key", "test-admin-key")], None).await;
    assert_eq!((room["seats"]["sold"].as_u64(), room["admittedTotal"].as_u64()), (Some(1), Some(1)), "{room}");
    // A second fan queues and leaves again.
    let (_, second, _) = call(&addr, "POST", "/users", &[], Some(json!({"name": "Lee"}))).await;
    let bearer2 = format!("Bearer {}", second["accessToken"].as_str().unwrap());
    let (_, token2, _) =
        call(&addr, "POST", "/queue/tokens", &[("authorization", bearer2.as_str())], Some(json!({ "concertId": cid }))).await;
    let both2 = [("authorization", bearer2.as_str()), ("queue-token", token2["queueToken"].as_str().unwrap())];
    let (status, left, _) = call(&addr, "DELETE", "/queue/tokens/current", &both2, None).await;
    assert_eq!((status, left["status"].as_str()), (200, Some("LEFT")), "{left}");

    // The gateway's own latency per route, for load tests to put beside the client's.
    let (status, stats, _) = call(&addr, "GET", "/__stats", &[], None).await;
    assert_eq!(status, 200);
    assert_eq!(stats["signup"]["service"]["count"], 2, "{stats}");
    assert!(stats["pay"]["handler"]["p99"].as_f64().unwrap() > 0.0);
    assert!(stats["pay"]["service"]["max"].as_f64().unwrap() >= stats["pay"]["handler"]["max"].as_f64().unwrap());
    let (_, emptied, _) = call(&addr, "DELETE", "/__stats", &[], None).await;
    assert_eq!(emptied, json!({}));

    let (status, _, _) = call(&addr, "GET", "/nowhere", &[], None).await;
    assert_eq!(status, 404);
    let (status, _, _) = call(&addr, "DELETE", "/users", &[], None).await;
    assert_eq!(status, 405);
    let (status, _, head) = call(&addr, "GET", "/__ping", &[], None).await;
    assert!(status == 200 && head.contains("application/json"));
    let (status, body, _) = call(&addr, "GET", "/__get", &[], None).await;
    assert_eq!((status, body), (200, json!({"ok": true})));
    let (_, stats, _) = call(&addr, "GET", "/__stats", &[], None).await;
    assert_eq!(stats["one-get"]["service"]["count"], 1, "{stats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_address_is_its_own_client_as_behind_api_gateway() {
    let app = TestApp::spawn_with(|c| c.limits.signups_per_minute = 2).await;
    let app: &'static TestApp = Box::leak(Box::new(app));
    let addr = local_stack::gateway::start(&app.app, "127.0.0.1:0".parse().unwrap()).await.unwrap().to_string();
    let signup = |from: &'static str| call_from(from, &addr, "POST", "/users", &[], Some(json!({"name": "Kim"})));
    // The limits' keys are under the test's own prefix: reruns never share a count.
    let (a, b) = ("127.0.0.2", "127.0.0.3");
    assert_eq!(signup(a).await.0, 201);
    assert_eq!(signup(a).await.0, 201);
    let (status, body, head) = signup(a).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("TOO_MANY_REQUESTS")), "{head}");
    assert_eq!(signup(b).await.0, 201, "another address has a limit of its own");
}

/// The pre-queue's lottery checked from outside, as a fan would: `local/verify-lottery` reads the
/// public lottery through the gateway, recomputes the order from the published seed and agrees
/// (and places a fan's own ticket); an order changed by one swap fails it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anyone_can_check_the_prequeue_lottery_and_a_forged_order_fails() {
    use fred::prelude::*;
    let app = TestApp::spawn_with(|c| c.admission.tick = Duration::from_millis(100)).await;
    let app: &'static TestApp = Box::leak(Box::new(app));
    let addr = local_stack::gateway::start(&app.app, "127.0.0.1:0".parse().unwrap()).await.unwrap().to_string();
    let now = ticketing::domain::now_ms();
    let concert = app.concert_opening(10, 1_000, now - 1_000, now + 1_500).await.concert_id;
    for _ in 0..40 {
        app.store.queue.join(&ticketing::domain::ids::UserId::random(), &concert, now).await.unwrap();
    }
    let verify = |extra: &[&str]| {
        let out = std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/verify-lottery"))
            .args([concert.as_str(), "--url", &format!("http://{addr}")])
            .args(extra)
            .output()
            .expect("python3 runs local/verify-lottery");
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, out) = verify(&[]);
    assert_eq!(code, Some(2), "nothing to check before the opening: {out}");

    // The gateway's admission loop opens the room and draws.
    let started = Instant::now();
    loop {
        let (_, lottery, _) = call(&addr, "GET", &format!("/concerts/{concert}/lottery"), &[], None).await;
        if lottery["status"] == "DRAWN" {
            assert_eq!(lottery["tickets"], 40);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(15), "not drawn: {lottery}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (code, out) = verify(&["--ticket", "7"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("ok    the published order is the one the committed seed gives (40 places)"), "{out}");
    assert!(out.contains("ticket 7: key "), "{out}");

    // Swap the first two published tickets: the verifier names the first rank that differs.
    let redis = app.raw_redis().await;
    let key = app.keys().room_draw(&concert);
    let raw: Vec<u8> = redis.getrange(&key, 0, 7).await.unwrap();
    let swapped: Vec<u8> = raw[4..8].iter().chain(&raw[0..4]).copied().collect();
    redis.setrange::<(), _, _>(&key, 0, swapped).await.unwrap();
    let (code, out) = verify(&[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL  rank 1: the seed gives ticket"), "{out}");
}
