//! Redis killed with SIGKILL in the middle of charges, holds and payments, then restarted from its
//! append-only file: every acknowledged write is still there, requests during the outage are
//! answered 503 `STORE_UNAVAILABLE` with `Retry-After`, and the same functions (the same `App`,
//! as a warm Lambda keeps it) carry on once Redis is back, with no restart.
//!
//! The test runs its own `redis-server` on a free port (`appendonly yes`, `appendfsync always`:
//! the durability a self-managed Redis of record needs; MemoryDB gives the same through its
//! transaction log). The shared Redis on 6379 is never touched.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lambda_http::http::Method;
use lambda_http::Request;
use serde_json::{json, Value};
use ticketing::domain::ids::ScheduleId;
use ticketing::domain::now_ms;
use ticketing::testing::{request, response, signed, TestApp, TestUser};

/// A `redis-server` of this test's own, persisting every write before it answers.
struct DurableRedis {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl DurableRedis {
    fn start() -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("ticketing-aof-{port}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut redis = DurableRedis { port, dir, child: None };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server from whatever its directory holds, and waits until it answers.
    fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let dir = self.dir.to_str().unwrap();
        let args = ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir];
        self.child = Some(redis_server(self.port, &args));
    }

    /// SIGKILL: no shutdown, no last fsync, no chance to save anything.
    fn kill_9(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `redis-cli -p PORT ARGS...`'s answer.
fn redis_cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli").arg("-p").arg(port.to_string()).args(args).output().expect("redis-cli runs");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A `redis-server` on loopback with `args` (a configuration file first, if any), once it answers.
fn redis_server(port: u16, args: &[&str]) -> Child {
    let child = Command::new("redis-server")
        .args(args)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server runs");
    let started = Instant::now();
    while redis_cli(port, &["ping"]) != "PONG" {
        assert!(started.elapsed() < Duration::from_secs(10), "redis-server did not come up on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// A field of `INFO replication`.
fn replication(port: u16, field: &str) -> String {
    let info = redis_cli(port, &["info", "replication"]);
    info.lines().find_map(|l| l.strip_prefix(&format!("{field}:"))).unwrap_or_default().trim().to_owned()
}

impl Drop for DurableRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

const FANS: usize = 24;
const PRICE: u64 = 1_000;
const CHARGE: u64 = 1_500;

/// What the fans saw: every refusal, by code, and whether each came with `Retry-After`.
#[derive(Default)]
struct Seen {
    refusals: BTreeMap<String, usize>,
    refusals_without_retry_after: usize,
    /// The longest a single call took.
    slowest: Duration,
}

/// Calls a handler until it answers 2xx, as a client that honours 503's `Retry-After` would
/// (a tenth of it here, to see more of the outage). Returns the status and body of the success.
async fn until_done<F>(seen: &Mutex<Seen>, acked: &AtomicUsize, mut call: impl FnMut() -> F) -> (u16, Value)
where
    F: std::future::Future<Output = lambda_http::Response<lambda_http::Body>>,
{
    let started = Instant::now();
    loop {
        let called = Instant::now();
        let resp = call().await;
        {
            let mut seen = seen.lock().unwrap();
            seen.slowest = seen.slowest.max(called.elapsed());
        }
        let status = resp.status().as_u16();
        let body: Value = serde_json::from_slice(resp.body().as_ref()).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            acked.fetch_add(1, Ordering::SeqCst);
            return (status, body);
        }
        let code = body["code"].as_str().unwrap_or("?").to_owned();
        {
            let mut seen = seen.lock().unwrap();
            *seen.refusals.entry(format!("{status} {code}")).or_default() += 1;
            if resp.headers().get("retry-after").is_none() {
                seen.refusals_without_retry_after += 1;
            }
        }
        assert!(started.elapsed() < Duration::from_secs(30), "no success within 30 s: {status} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn with_key(mut req: Request, key: &str) -> Request {
    req.headers_mut().insert("idempotency-key", key.parse().unwrap());
    req
}

/// One fan: two keyed charges, two holds, two keyed payments, each retried until it is
/// acknowledged; returns the payments' ids by seat.
async fn fan_journey(
    app: &'static TestApp,
    fan: usize,
    user: &'static TestUser,
    schedule: &str,
    seen: &Mutex<Seen>,
    acked: &AtomicUsize,
) -> HashMap<u64, String> {
    for round in 0..2 {
        let key = format!("charge-{fan}-{round}");
        until_done(seen, acked, || {
            let req = with_key(signed(request(Method::POST, "/users/me/balance", Some(json!({ "amount": CHARGE }))), user), &key);
            async move { response(charge_balance::handle(app, req).await) }
        })
        .await;
    }
    let seats = [fan as u64 * 2 + 1, fan as u64 * 2 + 2];
    let mut reservations = Vec::new();
    for seat in seats {
        let (status, body) = until_done(seen, acked, || {
            let req = signed(request(Method::POST, "/reservations", Some(json!({ "scheduleId": schedule, "seatNumber": seat }))), user);
            async move { response(hold_seat::handle(app, req).await) }
        })
        .await;
        // A hold whose answer was lost and that is asked for again answers 200 with that hold.
        assert!(status == 201 || status == 200, "{status} {body}");
        let reservation = body["reservationId"].as_str().unwrap().to_owned();
        reservations.push((seat, reservation));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut paid = HashMap::new();
    for (seat, reservation) in reservations {
        let key = format!("pay-{fan}-{seat}");
        let (status, body) = until_done(seen, acked, || {
            let req = with_key(signed(request(Method::POST, "/payments", Some(json!({ "reservationId": reservation }))), user), &key);
            async move { response(pay::handle(app, req).await) }
        })
        .await;
        assert!(status == 201 || status == 200, "{status} {body}");
        assert_eq!(body["amount"], PRICE, "{body}");
        paid.insert(seat, body["paymentId"].as_str().unwrap().to_owned());
    }
    paid
}

/// Everything the fans were told, checked against what Redis holds now.
async fn check_acknowledged(
    app: &TestApp,
    fans: &[TestUser],
    schedule: &ticketing::domain::ids::ScheduleId,
    paid: &[HashMap<u64, String>],
) {
    for (fan, user) in fans.iter().enumerate() {
        let balance = app.store.users.balance(&user.id).await.unwrap();
        assert_eq!(balance, 2 * CHARGE - 2 * PRICE, "fan {fan}: two charges once each, two payments once each");
        let reservations = app.store.users.reservations(&user.id).await.unwrap();
        let reservations = serde_json::to_value(reservations).unwrap();
        let sold: Vec<(u64, &str)> = reservations
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "PAID")
            .map(|r| (r["seatNumber"].as_u64().unwrap(), r["paymentId"].as_str().unwrap_or("")))
            .collect();
        assert_eq!(sold.len(), 2, "fan {fan}: {reservations}");
        for (seat, payment) in sold {
            assert_eq!(paid[fan].get(&seat).map(String::as_str), Some(payment), "fan {fan} seat {seat}: the acknowledged payment");
        }
    }
    // The fans' tokens ended with their last payment: a new admitted fan looks at the map.
    let concert = fans[0].ticket.as_ref().unwrap().concert.clone();
    let viewer = app.admitted_user_in(&concert, 0).await;
    let map = app.store.booking.seat_map(viewer.ticket.as_ref().unwrap(), &concert, schedule, now_ms()).await.unwrap();
    let map = serde_json::to_value(map).unwrap();
    let statuses: BTreeMap<String, usize> = map.as_array().unwrap().iter().fold(BTreeMap::new(), |mut m, s| {
        *m.entry(s["status"].as_str().unwrap().to_owned()).or_default() += 1;
        m
    });
    assert_eq!(statuses.get("SOLD"), Some(&(2 * fans.len())), "{statuses:?}");
    assert_eq!(statuses.get("HELD"), None, "{statuses:?}");
    // No Kafka here: each payment's event waits in the schedule's outbox, once.
    assert_eq!(app.store.outbox.pending(schedule).await.unwrap(), 2 * fans.len() as u64, "one event per payment");
}

/// What both tests start from: the functions against `url`, a concert with two seats for each of
/// FANS admitted fans, and what the fans will see. Leaked, as a warm Lambda's state lives as long
/// as its process.
struct Stage {
    app: &'static TestApp,
    schedule: ScheduleId,
    fans: &'static [TestUser],
    seen: &'static Mutex<Seen>,
    acked: &'static AtomicUsize,
}

impl Stage {
    async fn new(url: String) -> Self {
        let app = TestApp::spawn_with(|c| {
            c.redis.url = url;
            c.booking.hold = Duration::from_secs(600);
        })
        .await;
        let app: &'static TestApp = Box::leak(Box::new(app));
        let concert = app.concert(2 * FANS as u32 + 10, PRICE).await;
        let mut fans = Vec::new();
        for _ in 0..FANS {
            fans.push(app.admitted_user_in(&concert.concert_id, 0).await);
        }
        Stage {
            app,
            schedule: concert.schedules[0].schedule_id.clone(),
            fans: Vec::leak(fans),
            seen: Box::leak(Box::default()),
            acked: Box::leak(Box::default()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_payments_and_restarted_from_its_aof_keeps_every_acknowledged_write() {
    let redis = Arc::new(Mutex::new(DurableRedis::start()));
    let url = redis.lock().unwrap().url();
    let Stage { app, schedule, fans, seen, acked } = Stage::new(url).await;

    // The fans start; once a third of their 6 x FANS operations are acknowledged, Redis is killed
    // and stays down for 2 s (longer than the client's 2 s command timeout) before it restarts.
    let sid = schedule.to_string();
    let journeys: Vec<_> = fans
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let sid = sid.clone();
            tokio::spawn(async move { fan_journey(app, i, user, &sid, seen, acked).await })
        })
        .collect();
    let killer = {
        let redis = redis.clone();
        tokio::spawn(async move {
            while acked.load(Ordering::SeqCst) < 2 * FANS {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let at_kill = acked.load(Ordering::SeqCst);
            redis.lock().unwrap().kill_9();
            tokio::time::sleep(Duration::from_secs(2)).await;
            tokio::task::spawn_blocking(move || redis.lock().unwrap().restart()).await.unwrap();
            at_kill
        })
    };
    let mut paid = Vec::new();
    for journey in journeys {
        paid.push(journey.await.unwrap());
    }
    let at_kill = killer.await.unwrap();
    {
        let seen = seen.lock().unwrap();
        println!("acknowledged before the kill: {at_kill} of {}; refusals seen: {:?}", 6 * FANS, seen.refusals);
        assert!(at_kill < 6 * FANS, "Redis was killed mid-run");
        let outage = seen.refusals.get("503 STORE_UNAVAILABLE").copied().unwrap_or(0);
        assert!(outage > 0, "requests during the outage were answered 503: {:?}", seen.refusals);
        assert_eq!(seen.refusals_without_retry_after, 0, "every 503 carries Retry-After");
        assert_eq!(seen.refusals.len(), 1, "no answer but 503 during the outage: {:?}", seen.refusals);
    }
    check_acknowledged(app, fans, &schedule, &paid).await;

    // Killed again with no pause, and restarted: what was acknowledged after the first restart
    // (most of the run) is on disk too.
    redis.lock().unwrap().kill_9();
    let restarting = redis.clone();
    tokio::task::spawn_blocking(move || restarting.lock().unwrap().restart()).await.unwrap();
    let started = Instant::now();
    while let Err(e) = app.store.users.balance(&fans[0].id).await {
        assert!(started.elapsed() < Duration::from_secs(10), "the functions did not reconnect: {e:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check_acknowledged(app, fans, &schedule, &paid).await;
}

/// Kills on drop whatever it holds.
struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A primary with one replica and a Sentinel watching them. The functions reach Redis through the
/// Sentinel URL `docs/deploy.md` gives for self-managed Redis. Once the fans' first writes have
/// reached the replica, the primary is killed with SIGKILL; Sentinel promotes the replica, and the
/// same functions, never restarted, carry on against it: the fans who come during the failover
/// get 503 `STORE_UNAVAILABLE` with `Retry-After` until it is done, then finish; and everything
/// acknowledged before the kill is on the new primary.
///
/// Replication is asynchronous: a write acknowledged by the old primary in the last moment before
/// it died, and not yet copied, is lost with it (see docs/reliability.md). This test waits for the
/// replica to catch up before the kill, so it checks the following, not that loss.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failover_by_sentinel_is_followed_without_a_restart() {
    let (primary, replica, sentinel) = (free_port(), free_port(), free_port());
    let dir = std::env::temp_dir().join(format!("ticketing-sentinel-{sentinel}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Full syncs still write an RDB file to the primary's and the replica's directory.
    let no_disk = ["--save", "", "--appendonly", "no", "--dir", dir.to_str().unwrap()];
    let mut processes = Processes(vec![redis_server(primary, &no_disk)]);
    let replica_of = primary.to_string();
    processes.0.push(redis_server(replica, &[&no_disk[..], &["--replicaof", "127.0.0.1", &replica_of]].concat()));
    let config = dir.join("sentinel.conf");
    std::fs::write(
        &config,
        format!("sentinel monitor tickets 127.0.0.1 {primary} 1\nsentinel down-after-milliseconds tickets 500\nsentinel failover-timeout tickets 5000\n"),
    )
    .unwrap();
    processes.0.push(redis_server(sentinel, &[config.to_str().unwrap(), "--sentinel"]));
    let started = Instant::now();
    while replication(replica, "master_link_status") != "up" {
        assert!(started.elapsed() < Duration::from_secs(10), "the replica did not sync");
        std::thread::sleep(Duration::from_millis(50));
    }

    let url = format!("redis-sentinel://127.0.0.1:{sentinel}/0?sentinelServiceName=tickets");
    let Stage { app, schedule, fans, seen, acked } = Stage::new(url).await;
    let sid = schedule.to_string();

    // The first half of the fans buy, and their writes reach the replica.
    let (before, after) = fans.split_at(FANS / 2);
    let mut paid = Vec::new();
    for (i, user) in before.iter().enumerate() {
        paid.push(fan_journey(app, i, user, &sid, seen, acked).await);
    }
    let started = Instant::now();
    while replication(primary, "master_repl_offset") != replication(replica, "slave_repl_offset") {
        assert!(started.elapsed() < Duration::from_secs(10), "the replica did not catch up");
        std::thread::sleep(Duration::from_millis(20));
    }

    // The primary dies; the second half of the fans come during the failover.
    processes.0[0].kill().unwrap();
    processes.0[0].wait().unwrap();
    let killed = Instant::now();
    let journeys: Vec<_> = after
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let sid = sid.clone();
            tokio::spawn(async move { fan_journey(app, FANS / 2 + i, user, &sid, seen, acked).await })
        })
        .collect();
    for journey in journeys {
        paid.push(journey.await.unwrap());
    }
    let role = redis_cli(replica, &["role"]);
    assert!(role.starts_with("master"), "Sentinel promoted the replica: {role}");
    {
        // Commands sent while the client finds the new primary wait for it, up to the 2 s command
        // timeout; past that the request is answered 503 and retried.
        let seen = seen.lock().unwrap();
        println!("all fans done {:?} after the kill; slowest call {:?}; refusals: {:?}", killed.elapsed(), seen.slowest, seen.refusals);
        let refusals: Vec<&String> = seen.refusals.keys().filter(|r| *r != "503 STORE_UNAVAILABLE").collect();
        assert!(refusals.is_empty(), "no answer but 503 during the failover: {:?}", seen.refusals);
        assert_eq!(seen.refusals_without_retry_after, 0);
        assert!(seen.slowest < Duration::from_millis(2_500), "a call waited {:?}", seen.slowest);
    }
    check_acknowledged(app, fans, &schedule, &paid).await;
    let _ = std::fs::remove_dir_all(&dir);
}
