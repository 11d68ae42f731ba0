//! Test support (feature `testing`): an [`App`] against the real Redis at `TEST_REDIS_URL`
//! (default `redis://127.0.0.1:6379`) under a random key prefix, so tests run in parallel without
//! seeing each other, plus shortcuts to reach the states a test starts from.

use std::sync::atomic::{AtomicU64, Ordering};

use lambda_http::{http::Method, Body, Request, RequestExt};

use crate::app::App;
use crate::config::Config;
use crate::domain::ids::UserId;
use crate::domain::inputs::{NewConcertRequest, NewScheduleRequest, UserName};
use crate::domain::models::Concert;
use crate::domain::now_ms;
use crate::domain::tokens::QueueTicket;

pub struct TestApp {
    pub app: App,
    next_tick: AtomicU64,
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
        let url = std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let mut config = Config::from_lookup(|name| match name {
            "AUTH_SECRET" => Some("test-secret-test-secret-test-secret!".into()),
            "ADMIN_KEY" => Some("test-admin-key".into()),
            "REDIS_URL" => Some(url.clone()),
            "REDIS_POOL_SIZE" => Some("4".into()),
            "KEY_PREFIX" => Some(prefix.clone()),
            // The Tansu broker of the tests mishandles idempotent producers (see the README).
            "KAFKA_IDEMPOTENCE" => Some(std::env::var("TEST_KAFKA_IDEMPOTENCE").unwrap_or_else(|_| "false".into())),
            _ => None,
        })
        .expect("test configuration");
        adjust(&mut config);
        let app = App::new(config).await.expect("Redis must run at TEST_REDIS_URL for the tests");
        TestApp { app, next_tick: AtomicU64::new(now_ms()) }
    }

    pub async fn user(&self) -> TestUser {
        let id = UserId::random();
        self.store.create_user(&id, &UserName::parse("Test Fan").unwrap(), now_ms()).await.unwrap();
        let access_token = self.signer.access_token(&id, now_ms() / 1000 + 3600);
        TestUser { id, access_token, ticket: None, queue_token: None }
    }

    /// A user with money and an ACTIVE queue token.
    pub async fn admitted_user(&self, balance: u64) -> TestUser {
        let mut user = self.user().await;
        if balance > 0 {
            let amount = crate::domain::inputs::Amount::parse_charge(balance as i64).unwrap();
            self.store.charge(&user.id, amount, None).await.unwrap();
        }
        let (ticket, _) = self.store.issue_ticket(&user.id, now_ms()).await.unwrap();
        self.admit_waiting().await;
        user.queue_token = Some(self.signer.queue_token(&ticket));
        user.ticket = Some(ticket);
        user
    }

    /// Runs one admission tick with this app's settings.
    pub async fn admit_waiting(&self) -> crate::store::queue::TickReport {
        let tick = self.next_tick.fetch_add(1, Ordering::SeqCst);
        self.store.admission_tick(tick, now_ms(), self.admission()).await.unwrap()
    }

    /// A concert with one schedule of `seats` seats at `price`.
    pub async fn concert(&self, seats: u32, price: u64) -> Concert {
        let concert = NewConcertRequest {
            title: "Test Concert".into(),
            venue: "Test Hall".into(),
            schedules: vec![NewScheduleRequest {
                starts_at: "2030-01-01T19:00:00Z".into(),
                price: price as i64,
                seat_count: seats as i64,
            }],
        }
        .into_concert()
        .unwrap();
        self.store.create_concert(&concert).await.unwrap();
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
        headers.insert(crate::http::QUEUE_TOKEN_HEADER, token.parse().unwrap());
    }
    req
}

/// Sets path parameters as the router would.
pub fn with_path(req: Request, params: &[(&str, &str)]) -> Request {
    let map: std::collections::HashMap<String, String> =
        params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    req.with_path_parameters(map)
}

/// The response's status and JSON body.
pub fn read(resp: lambda_http::Response<Body>) -> (u16, serde_json::Value) {
    let status = resp.status().as_u16();
    let body = serde_json::from_slice(resp.body().as_ref()).unwrap_or(serde_json::Value::Null);
    (status, body)
}
