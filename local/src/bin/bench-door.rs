//! `cargo run --release -p local-stack --bin bench-door`: what the door's proof of work costs a
//! script that takes places, and what it costs the service.
//!
//! - **A script's side**: for each difficulty (`BITS`, default 0 8 12 16 20), fresh challenges
//!   solved by native Rust on one core (`challenge::solve`, SHA-256 with the challenge's prefix
//!   hashed once: the fastest a script on a CPU gets) until they add up to half a second of the
//!   thread's own CPU time (`/proc/thread-self/schedstat`, so another process on the core does not
//!   count; its clock advances at scheduler ticks, hence sums rather than single solves), at least
//!   5. Prints the mean CPU time per solution and the places one CPU-second buys.
//!   With the door open (0 bits) a place costs the script only its requests, which this does not
//!   measure: the service's own time per join (below) bounds it.
//! - **The service's side**: `JOINS` (default 400) joins through the in-process `issue-token`
//!   handler against Redis (`REDIS_URL`, a fresh key prefix), alternately with the door open (a
//!   join as before) and asking 8 bits (the challenge from `get-challenge`, solved off the clock,
//!   then checked and taken by the join). Prints the median and p95 handler time of each, the
//!   challenge's own, and their ratio. Medians side by side in one run: the machine is shared.

use std::time::{Duration, Instant};

use lambda_http::http::Method;
use local_stack::stats::Histogram;
use ticketing::domain::admin::RoomUpdateRequest;
use ticketing::domain::challenge::{solve, Challenge};
use ticketing::domain::ids::ConcertId;
use ticketing::domain::now_ms;
use ticketing::testing::{concert_get, request, signed, TestApp};

/// This thread's time on a CPU so far.
fn thread_cpu() -> Duration {
    let raw = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux's schedstat");
    Duration::from_nanos(raw.split_whitespace().next().and_then(|ns| ns.parse().ok()).expect("a number of nanoseconds"))
}

/// `h`'s `q` quantile in milliseconds (the gateway's own histogram: within 1/16 of the value).
fn ms(h: &Histogram, q: f64) -> f64 {
    h.quantile(q) as f64 / 1000.0
}

fn env_list(name: &str, default: &[u64]) -> Vec<u64> {
    std::env::var(name).map(|v| v.split_whitespace().filter_map(|x| x.parse().ok()).collect()).unwrap_or_else(|_| default.to_vec())
}

fn scripts_side() {
    println!("A script's side: native SHA-256 on one core, CPU time per solution");
    println!("| bits | solutions | mean CPU per solution | places per CPU-second |");
    println!("|---:|---:|---:|---:|");
    let concert = ConcertId::random();
    for bits in env_list("BITS", &[0, 8, 12, 16, 20]) {
        let (started, mut solved) = (thread_cpu(), 0u64);
        while solved < 5 || thread_cpu() - started < Duration::from_millis(500) {
            // A challenge as the service signs it: the token's length is what is hashed.
            let challenge = Challenge::issue(&concert, bits as u8, now_ms() + solved);
            let token = format!("pow.{}.{}.{}.{}.{}", challenge.concert, challenge.expires_at_ms, bits, challenge.salt, "s".repeat(43));
            std::hint::black_box(solve(&token, bits as u8, 0));
            solved += 1;
        }
        let ms = (thread_cpu() - started).as_secs_f64() * 1000.0 / solved as f64;
        println!("| {bits} | {solved} | {ms:.4} ms | {:.0} |", 1000.0 / ms);
    }
    println!("(0 bits: a place costs the script one hash here and its requests, which the service's side bounds)");
}

async fn services_side() {
    let joins = env_list("JOINS", &[400])[0] as usize;
    let app = TestApp::spawn_with(|c| {
        c.admission.door.min_bits = 8;
        c.admission.door.max_bits = 8;
        c.limits.joins_per_minute = 0;
    })
    .await;
    let open = app.concert(10, 1_000).await;
    let door = app.concert(10, 1_000).await;
    let opened = RoomUpdateRequest { pow_max_bits: Some(0), ..Default::default() }.validate().unwrap();
    app.store.queue.update(&open.concert_id, &opened, now_ms()).await.unwrap();
    let (mut plain, mut verified, mut challenge_ms) = (Histogram::default(), Histogram::default(), Histogram::default());
    for i in 0..joins {
        let fan = app.user().await;
        if i % 2 == 0 {
            let body = serde_json::json!({ "concertId": open.concert_id.as_str() });
            let req = signed(request(Method::POST, "/queue/tokens", Some(body)), &fan);
            let started = Instant::now();
            let resp = issue_token::handle(&app, req).await.expect("a join");
            plain.record(started.elapsed());
            assert_eq!(resp.status(), 201);
        } else {
            let req = concert_get("/concerts/{concertId}/challenge", door.concert_id.as_str());
            let started = Instant::now();
            let resp = get_challenge::handle(&app, req).await.expect("a challenge");
            challenge_ms.record(started.elapsed());
            let answer: serde_json::Value = match resp.body() {
                lambda_http::Body::Text(text) => serde_json::from_str(text).unwrap(),
                other => panic!("not JSON: {other:?}"),
            };
            let token = answer["challenge"].as_str().unwrap().to_owned();
            let nonce = solve(&token, answer["bits"].as_u64().unwrap() as u8, 0);
            let body = serde_json::json!({ "concertId": door.concert_id.as_str(), "challenge": token, "nonce": nonce });
            let req = signed(request(Method::POST, "/queue/tokens", Some(body)), &fan);
            let started = Instant::now();
            let resp = issue_token::handle(&app, req).await.expect("a join");
            verified.record(started.elapsed());
            assert_eq!(resp.status(), 201);
        }
    }
    let (p, v, c) = (ms(&plain, 0.5), ms(&verified, 0.5), ms(&challenge_ms, 0.5));
    println!();
    println!("The service's side: {joins} joins through issue-token in-process, alternating (handler time, ms)");
    println!("| join | median | p95 |");
    println!("|---|---:|---:|");
    println!("| door open (as before) | {p:.3} | {:.3} |", ms(&plain, 0.95));
    println!("| with a solution checked and taken | {v:.3} | {:.3} |", ms(&verified, 0.95));
    println!("| the challenge (get-challenge) | {c:.3} | {:.3} |", ms(&challenge_ms, 0.95));
    println!("verified join / join: {:.2}x; challenge + verified join / join: {:.2}x", v / p, (v + c) / p);
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    scripts_side();
    services_side().await;
}
