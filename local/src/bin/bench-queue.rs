//! `cargo run --release -p local-stack --bin bench-queue -- [SIZES...]`: one waiting room of each
//! size (default 10000 100000 1000000 fans) on a `redis-server` of its own (a free port, no
//! persistence; never the shared one), filled through the real join script, then admission ticks,
//! alternately in steps of `ADMIT_STEP` (default 1000) and in one call (the former behaviour);
//! each tick admits a fifth of the room, at most 100,000. Meanwhile `POLLERS` (default 4)
//! connections ask the local gateway (the in-process HTTP path of `local/up`, on a free port) for
//! the status of the fan at the back of the line, as fast as it answers. Prints, per size: Redis
//! memory per waiting fan and where it goes, and the token-status p50/p99 at rest; per size and
//! mode: the tick's wall time and calls, the longest `room_tick.lua` call inside Redis (SLOWLOG,
//! threshold 0), and the token-status p50/p99/max through the gateway during the tick: what every
//! other request on that Redis waits.
//!
//! Before the ticks, at rest, the same status with and without a forecast of the most runs it
//! keeps in the room's stats, in turns: what the forecast costs every waiting fan's poll (not
//! with `LOTTERY=1`, whose fans are in the pre-queue).
//!
//! `LOTTERY=1`: the fans join a pre-queue instead, and the opening's lottery is drawn before the
//! ticks (`QueueStore::draw_lottery`): its wall time, its longest command inside Redis, and the
//! token status during it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use local_stack::gateway::Gateway;
use ticketing::domain::admin::{NewConcertRequest, NewScheduleRequest, SaleTimes};
use ticketing::domain::challenge::Door;
use ticketing::domain::forecast::{Forecast, Run, MAX_RUNS};
use ticketing::domain::ids::{ConcertId, UserId};
use ticketing::domain::now_ms;
use ticketing::domain::queue::Inventory;
use ticketing::domain::tokens::QueueTicket;
use ticketing::store::queue::Admission;
use ticketing::{App, Config};

const ADMIT_PER_TICK: u64 = 100_000;

struct OwnRedis(Child, u16);

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli").arg("-p").arg(port.to_string()).args(args).output().expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn start_redis() -> OwnRedis {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server runs");
    while redis_cli(port, &["ping"]).trim() != "PONG" {
        std::thread::sleep(Duration::from_millis(20));
    }
    OwnRedis(child, port)
}

fn used_memory(port: u16) -> u64 {
    let info = redis_cli(port, &["info", "memory"]);
    info.lines().find_map(|l| l.strip_prefix("used_memory:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// The longest `room_tick.lua` call SLOWLOG holds, in microseconds, and how many it holds.
fn longest_tick_call(port: u16, sha: &str) -> (u64, usize) {
    longest_call(port, "evalsha", Some(sha))
}

/// The longest call of `command` (with `first` as its first argument, if given) SLOWLOG holds, in
/// microseconds, and how many it holds.
fn longest_call(port: u16, command: &str, first: Option<&str>) -> (u64, usize) {
    // Entries: id, timestamp, microseconds, then the command's arguments; redis-cli prints one per line.
    let raw = redis_cli(port, &["slowlog", "get", "100000"]);
    let lines: Vec<&str> = raw.lines().collect();
    let mut longest = (0, 0);
    for (i, line) in lines.iter().enumerate() {
        let first_ok = first.is_none_or(|f| lines.get(i + 1).map(|l| l.trim()) == Some(f));
        if line.trim().eq_ignore_ascii_case(command) && first_ok && i >= 1 {
            if let Ok(micros) = lines[i - 1].trim().parse::<u64>() {
                longest = (longest.0.max(micros), longest.1 + 1);
            }
        }
    }
    longest
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

/// Asks the gateway at `addr` for one fan's token status on one keep-alive connection until
/// `stop`, and returns how long each answer took. A plain blocking HTTP/1.1 client: it sends the
/// same request each time and reads the answer to its `content-length`.
fn poll_status(addr: SocketAddr, request: Arc<Vec<u8>>, stop: Arc<AtomicBool>) -> Vec<Duration> {
    let mut stream = TcpStream::connect(addr).expect("the gateway answers");
    stream.set_nodelay(true).expect("nodelay");
    let mut times = Vec::new();
    let mut buf = vec![0u8; 8192];
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        stream.write_all(&request).expect("request sent");
        let mut len = 0;
        let complete = loop {
            let n = stream.read(&mut buf[len..]).expect("answer read");
            assert!(n > 0, "the gateway closed the connection");
            len += n;
            let Some(end) = buf[..len].windows(4).position(|w| w == b"\r\n\r\n") else { continue };
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            assert!(head.starts_with("http/1.1 200"), "token status answered {head}");
            let body: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
            if len >= end + 4 + body {
                break &buf[end + 4..end + 4 + body];
            }
        };
        assert!(complete.starts_with(b"{"), "a JSON status");
        times.push(started.elapsed());
    }
    times
}

/// Runs `POLLERS` status pollers for as long as `during` takes, plus 100 ms either side; returns
/// what `during` returned and the sorted answer times.
async fn polled<T>(gateway: SocketAddr, request: &Arc<Vec<u8>>, during: impl std::future::Future<Output = T>) -> (T, Vec<Duration>) {
    let pollers: usize = std::env::var("POLLERS").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..pollers)
        .map(|_| {
            let (request, stop) = (request.clone(), stop.clone());
            std::thread::spawn(move || poll_status(gateway, request, stop))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let out = during.await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    stop.store(true, Ordering::Relaxed);
    let mut times: Vec<Duration> = threads.into_iter().flat_map(|t| t.join().expect("poller")).collect();
    times.sort();
    (out, times)
}

/// What the room's forecast costs every waiting fan's poll (`domain::forecast`): the status of the
/// fan at `size`, the back of the line, at rest, with the most runs a forecast keeps in the room's
/// stats (reaching that fan's place, so its ETA reads them all) and without, in turns of 300 ms
/// (without, with, with, without, without, with).
async fn forecast_cost(size: u64, id: &ConcertId, port: u16, gateway: SocketAddr, request: &Arc<Vec<u8>>, now: u64) {
    let stats_key = format!("bench:{{r:{id}}}:stats");
    let runs_kept = MAX_RUNS as u64;
    let runs =
        (1..=runs_kept).map(|i| Run { to: size * i / runs_kept, start_ms: now + i * 20_000, end_ms: now + i * 20_000 + 5_000 }).collect();
    let field = Forecast { head: 1, runs, cap_bound: false }.to_field();
    let (mut with, mut without) = (Vec::new(), Vec::new());
    // Without, with, with, without, ...: neither always goes first.
    for turn in 0..6 {
        let forecast = turn % 4 == 1 || turn % 4 == 2;
        if forecast {
            redis_cli(port, &["hset", &stats_key, "forecast", &field]);
        } else {
            redis_cli(port, &["hdel", &stats_key, "forecast"]);
        }
        let times = polled(gateway, request, tokio::time::sleep(Duration::from_millis(300))).await.1;
        if forecast { &mut with } else { &mut without }.extend(times);
    }
    redis_cli(port, &["hdel", &stats_key, "forecast"]);
    with.sort();
    without.sort();
    println!(
        "{size:>9} | token status with a forecast of {runs_kept} runs ({} bytes) / without: p50 {:.3} / {:.3} ms, answers {} / {} ({:.0} % as many)",
        field.len(),
        percentile(&with, 0.5),
        percentile(&without, 0.5),
        with.len(),
        without.len(),
        100.0 * with.len() as f64 / without.len().max(1) as f64
    );
}

/// The request a fan's page sends for its status.
fn status_request(app: &App, ticket: &QueueTicket) -> Arc<Vec<u8>> {
    let signer = app.signer().expect("AUTH_SECRET is set");
    let access = signer.access_token(&ticket.user, now_ms() / 1000 + 86_400);
    let queue = signer.queue_token(ticket);
    let request = format!(
        "GET /queue/tokens/current HTTP/1.1\r\nhost: bench\r\nauthorization: Bearer {access}\r\n{}: {queue}\r\n\r\n",
        ticketing::app::QUEUE_TOKEN_HEADER
    );
    Arc::new(request.into_bytes())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sizes: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![10_000, 100_000, 1_000_000] } else { sizes };
    let step: u64 = std::env::var("ADMIT_STEP").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000);
    println!("room size | mode | tick ms | calls | longest call in Redis ms | token status through the gateway p50 / p99 / max ms during the tick");
    let lottery = std::env::var("LOTTERY").is_ok_and(|v| v == "1");
    for size in sizes {
        let redis = start_redis();
        let url = format!("redis://127.0.0.1:{}", redis.1);
        let config = Config::from_lookup(|name| match name {
            "REDIS_URL" => Some(url.clone()),
            "KEY_PREFIX" => Some("bench".into()),
            "REDIS_POOL_SIZE" => Some("8".into()),
            "AUTH_SECRET" => Some("bench-queue's own secret, 32 bytes or more".into()),
            _ => None,
        })?;
        let app: &'static App = Box::leak(Box::new(App::new(config).await?));
        // The gateway's HTTP path without its schedules: the ticks here are the bench's.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let gateway = listener.local_addr()?;
        tokio::spawn(Arc::new(Gateway::new(app)?).serve(listener));
        let now = now_ms();
        let (concert, _) = NewConcertRequest {
            title: "Bench".into(),
            venue: "Hall".into(),
            prequeue_opens_at: None,
            opens_at: None,
            schedules: vec![NewScheduleRequest { starts_at: "2030-01-01T19:00:00Z".into(), price: 1_000, seat_count: 5_000 }],
        }
        .into_concert(now)?;
        // With LOTTERY=1 the room opens in an hour: everyone joins its pre-queue.
        let opens = if lottery { now + 3_600_000 } else { now };
        app.store.create_concert(&concert, SaleTimes { prequeue_opens_at_ms: now, opens_at_ms: opens }).await?;
        let id: ConcertId = concert.concert_id.clone();

        let before = used_memory(redis.1);
        let mut last = None;
        let mut joined = 0;
        while joined < size {
            let batch = (size - joined).min(2_000);
            let users: Vec<UserId> = (0..batch).map(|_| UserId::random()).collect();
            let tickets = join_all(users.iter().map(|user| app.store.queue.join(user, &id, now))).await;
            for t in tickets {
                last = Some(t?.ticket);
            }
            joined += batch;
        }
        let per_fan = (used_memory(redis.1) - before) as f64 / size as f64;
        // Where the bytes go: each of the room's structures, per waiting fan.
        let breakdown: Vec<String> = ["waiting", "holder", "fans"]
            .iter()
            .map(|part| {
                let key = format!("bench:{{r:{id}}}:{part}");
                let bytes: f64 = redis_cli(redis.1, &["memory", "usage", &key, "samples", "0"]).trim().parse().unwrap_or(0.0);
                format!("{part} {:.0}", bytes / size as f64)
            })
            .collect();
        let back_of_line = last.expect("someone joined");
        let request = status_request(app, &back_of_line);
        let ((), rest) = polled(gateway, &request, tokio::time::sleep(Duration::from_millis(300))).await;
        println!(
            "{size:>9} | memory per waiting fan: {per_fan:.0} bytes ({}) | token status at rest p50 / p99 {:.2} / {:.2} ms",
            breakdown.join(", "),
            percentile(&rest, 0.5),
            percentile(&rest, 0.99)
        );
        if !lottery {
            forecast_cost(size, &id, redis.1, gateway, &request, now).await;
        }
        let sha = redis_cli(redis.1, &["script", "load", include_str!("../../../shared/lua/room_tick.lua")]).trim().to_owned();
        if lottery {
            redis_cli(redis.1, &["config", "set", "slowlog-log-slower-than", "0"]);
            redis_cli(redis.1, &["config", "set", "slowlog-max-len", "100000"]);
            redis_cli(redis.1, &["slowlog", "reset"]);
            let (drawn, times) = polled(gateway, &request, async {
                let started = Instant::now();
                let drawn = app.store.queue.draw_lottery(&id, opens).await;
                (drawn, started.elapsed().as_secs_f64() * 1000.0)
            })
            .await;
            drawn.0?;
            redis_cli(redis.1, &["config", "set", "slowlog-log-slower-than", "10000"]);
            let (zadd, calls) = longest_call(redis.1, "zadd", None);
            let (setrange, _) = longest_call(redis.1, "setrange", None);
            println!(
                "{size:>9} | lottery  | {:>8.1} | {calls:>5} | {:>7.2} | {:.2} / {:.2} / {:.2}   (the draw: longest ZADD, SETRANGE {:.2} ms)",
                drawn.1,
                zadd.max(setrange) as f64 / 1000.0,
                percentile(&times, 0.5),
                percentile(&times, 0.99),
                times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
                setrange as f64 / 1000.0,
            );
        }

        let inventory = Inventory { seats: 10_000_000, sold: 0, held: 0, fans_holding: 0, holds_to_sell: None };
        let base = Admission {
            admit_per_tick: ADMIT_PER_TICK,
            active_cap: 100_000_000,
            overbooking: 1.5,
            active_ttl_ms: 600_000,
            // Longer than the pre-queue's hour (LOTTERY=1): nobody is dropped as absent.
            wait_idle_ms: 7_200_000,
            wait_abandon_ms: 7_200_000,
            tick_ms: 1_000,
            hold_ms: 300_000,
            step,
            active_idle_ms: 3_600_000,
            autopilot: false,
            target_p95_ms: 50,
            door: Door { min_bits: 0, max_bits: 0 },
        };
        // Steps and one call, alternately, two ticks each, on the same (shrinking) line: each tick
        // admits a fifth of the room, at most the report's 100,000.
        let per_tick = (size / 5).clamp(1, ADMIT_PER_TICK);
        let base = Admission { admit_per_tick: per_tick, ..base };
        for (tick, mode) in [(1u64, "steps"), (2, "one call"), (3, "steps"), (4, "one call")] {
            let waiting_now = size.saturating_sub((tick - 1) * per_tick);
            if waiting_now <= 1 {
                break;
            }
            let admission = Admission { step: if mode == "steps" { step } else { 1_000_000_000 }, ..base };
            redis_cli(redis.1, &["config", "set", "slowlog-log-slower-than", "0"]);
            redis_cli(redis.1, &["config", "set", "slowlog-max-len", "100000"]);
            redis_cli(redis.1, &["slowlog", "reset"]);
            let (report, times) = polled(gateway, &request, async {
                let started = Instant::now();
                let clock = if lottery { opens + tick * 1_000 } else { now_ms() };
                let report = app.store.queue.tick(&id, now + tick * 1_000, clock, admission, inventory, None).await;
                (report, started.elapsed().as_secs_f64() * 1000.0)
            })
            .await;
            let (report, tick_ms) = (report.0?, report.1);
            redis_cli(redis.1, &["config", "set", "slowlog-log-slower-than", "10000"]);
            let (longest, _) = longest_tick_call(redis.1, &sha);
            println!(
                "{size:>9} | {mode:<8} | {tick_ms:>8.1} | {:>5} | {:>7.2} | {:.2} / {:.2} / {:.2}   (admitted {}, {waiting_now} waiting before)",
                report.steps,
                longest as f64 / 1000.0,
                percentile(&times, 0.5),
                percentile(&times, 0.99),
                times.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
                report.admitted,
            );
        }
        drop(redis);
    }
    Ok(())
}
