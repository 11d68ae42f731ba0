//! `bots ROLE URL CONCERT SECONDS [FANS]`: one side of `k6/bots`, the fair-entry test: a crowd of
//! fans and one bot taking places in the same pre-queue through the local gateway. Prints one JSON
//! line: the places it took (ticket numbers), its refusals by code and its CPU time.
//!
//! - `bot`: one thread (the runtime's; `k6/bots` pins the process to a core of its own), 64
//!   requests in flight, for `SECONDS`. Each place: a new account from the next of 2,500 loopback
//!   addresses in turn (127.NET.0-9.1-250, `BOT_NET` default 20: a botnet's proxies; each
//!   address's per-minute limits then allow 50,000 sign-ups a minute), the room's challenge, solved natively on the same thread (SHA-256 with the challenge's
//!   prefix hashed once: the fastest a script on a CPU gets), and the join. A refusal (429 from an
//!   address's limit, a challenge answer) moves it on to the next address.
//! - `fans`: `FANS` people arriving evenly over the first 80 % of `SECONDS`, each from an address
//!   of their own (127.0.10.x and up), doing what the fan's page does once: sign up, ask for a
//!   challenge, solve it (on a blocking thread; the page solves in a Web Worker), join. Records
//!   each fan's time from arrival to a place and the part of it spent solving.
//!
//! Requests go through `local_stack::client`, which sends from a chosen source address, one
//! request per connection, as a bot rotating addresses does anyway.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use local_stack::client;
use serde_json::{json, Value};
use ticketing::domain::challenge::solve;

/// This thread's time on a CPU so far.
fn thread_cpu() -> Duration {
    let raw = std::fs::read_to_string("/proc/thread-self/schedstat").expect("Linux's schedstat");
    Duration::from_nanos(raw.split_whitespace().next().and_then(|ns| ns.parse().ok()).expect("a number of nanoseconds"))
}

/// One request from `from` (`local_stack::client`); the status and the JSON body.
async fn call(
    from: [u8; 4],
    to: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let auth = bearer.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| ("authorization", a)).into_iter().collect();
    let answer = client::call_from(from.into(), to, method, path, &headers, body).await?;
    Ok((answer.status, answer.body))
}

/// What one taker (the bot, or all the fans) saw.
#[derive(Default)]
struct Tally {
    tickets: Vec<u64>,
    refused: BTreeMap<String, u64>,
    /// Fans only: arrival to a place, and the solving part of it, in ms.
    waits_ms: Vec<f64>,
    solves_ms: Vec<f64>,
}

impl Tally {
    fn refuse(&mut self, step: &str, status: u16, body: &Value) {
        let code = body["code"].as_str().map(str::to_owned).unwrap_or_else(|| status.to_string());
        *self.refused.entry(format!("{step} {code}")).or_default() += 1;
    }
}

/// The ticket number in a queue token (`qt.<user>.<concert>.<number>.<signature>`).
fn ticket_of(token: &str) -> Option<u64> {
    token.split('.').nth(3)?.parse().ok()
}

/// One place taken the way the fan's page takes it: sign up, challenge, solve, join. `solver`
/// runs the proof of work (inline for the bot, on a blocking thread for a fan); the answer is the
/// ticket number and the time spent solving.
async fn take_place<F, Fut>(from: [u8; 4], to: SocketAddr, concert: &str, tally: &Mutex<Tally>, solver: F) -> Option<(u64, Duration)>
where
    F: FnOnce(String, u8) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let refuse = |step: &str, status: u16, body: &Value| tally.lock().unwrap().refuse(step, status, body);
    let (status, user) = call(from, to, "POST", "/users", None, Some(&json!({"name": "Taker"}))).await.ok()?;
    if status != 201 {
        refuse("signup", status, &user);
        return None;
    }
    let bearer = user["accessToken"].as_str()?.to_owned();
    let (status, challenge) = call(from, to, "GET", &format!("/concerts/{concert}/challenge"), None, None).await.ok()?;
    if status != 200 {
        refuse("challenge", status, &challenge);
        return None;
    }
    let mut join = json!({"concertId": concert});
    let mut solving = Duration::ZERO;
    if challenge["required"] == true {
        let token = challenge["challenge"].as_str()?.to_owned();
        let bits = challenge["bits"].as_u64()? as u8;
        let started = Instant::now();
        let nonce = solver(token.clone(), bits).await;
        solving = started.elapsed();
        join["challenge"] = token.into();
        join["nonce"] = nonce.into();
    }
    let (status, joined) = call(from, to, "POST", "/queue/tokens", Some(&bearer), Some(&join)).await.ok()?;
    if status != 201 {
        refuse("join", status, &joined);
        return None;
    }
    Some((ticket_of(joined["queueToken"].as_str()?)?, solving))
}

fn report(role: &str, tally: &Tally, cpu: Duration, seconds: f64) {
    let line = json!({
        "role": role,
        "places": tally.tickets.len(),
        "tickets": tally.tickets,
        "refused": tally.refused,
        "cpuSeconds": cpu.as_secs_f64(),
        "seconds": seconds,
        "waitsMs": tally.waits_ms,
        "solvesMs": tally.solves_ms,
    });
    println!("{line}");
}

async fn bot(to: SocketAddr, concert: String, window: Duration) {
    // Which 2,500 addresses: 127.NET.0-9.1-250 (`BOT_NET`, default 20), so runs in the same
    // minute do not share the per-address counts.
    let net: u8 = std::env::var("BOT_NET").ok().and_then(|n| n.parse().ok()).unwrap_or(20);
    let started = Instant::now();
    let cpu = thread_cpu();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let next = Arc::new(AtomicU64::new(0));
    let workers = (0..64).map(|_| {
        let (tally, next, concert) = (tally.clone(), next.clone(), concert.clone());
        tokio::spawn(async move {
            while started.elapsed() < window {
                let k = next.fetch_add(1, Ordering::Relaxed);
                let from = [127, net, (k / 250 % 10) as u8, (k % 250 + 1) as u8];
                // Solving inline holds the one thread: the bot's CPU is the budget.
                let inline = |token: String, bits: u8| async move { solve(&token, bits, 0) };
                if let Some((ticket, _)) = take_place(from, to, &concert, &tally, inline).await {
                    tally.lock().unwrap().tickets.push(ticket);
                }
            }
        })
    });
    futures::future::join_all(workers).await;
    let tally = tally.lock().unwrap();
    report("bot", &tally, thread_cpu() - cpu, started.elapsed().as_secs_f64());
}

async fn fans(to: SocketAddr, concert: String, window: Duration, count: u64) {
    let started = Instant::now();
    let tally = Arc::new(Mutex::new(Tally::default()));
    let arrivals = window.mul_f64(0.8);
    let people = (0..count).map(|i| {
        let (tally, concert) = (tally.clone(), concert.clone());
        tokio::spawn(async move {
            tokio::time::sleep(arrivals.mul_f64(i as f64 / count as f64)).await;
            let arrived = Instant::now();
            let from = [127, 0, 10 + (i / 250) as u8, (i % 250 + 1) as u8];
            let worker = |token: String, bits: u8| async move {
                tokio::task::spawn_blocking(move || solve(&token, bits, 0)).await.expect("the solver finishes")
            };
            if let Some((ticket, solving)) = take_place(from, to, &concert, &tally, worker).await {
                let mut t = tally.lock().unwrap();
                t.tickets.push(ticket);
                t.waits_ms.push(arrived.elapsed().as_secs_f64() * 1000.0);
                t.solves_ms.push(solving.as_secs_f64() * 1000.0);
            }
        })
    });
    futures::future::join_all(people).await;
    let tally = tally.lock().unwrap();
    report("fans", &tally, Duration::ZERO, started.elapsed().as_secs_f64());
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bots bot|fans URL CONCERT SECONDS [FANS]";
    let [role, url, concert, seconds, rest @ ..] = args.as_slice() else { panic!("{usage}") };
    let to: SocketAddr = url.trim_start_matches("http://").trim_end_matches('/').parse().expect("URL is http://IP:PORT");
    let window = Duration::from_secs_f64(seconds.parse().expect("SECONDS is a number"));
    match role.as_str() {
        "bot" => {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            rt.block_on(bot(to, concert.clone(), window));
        }
        "fans" => {
            let count = rest.first().and_then(|n| n.parse().ok()).unwrap_or(300);
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime");
            rt.block_on(fans(to, concert.clone(), window, count));
        }
        _ => panic!("{usage}"),
    }
}
