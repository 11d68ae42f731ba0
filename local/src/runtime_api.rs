//! A Lambda Runtime API and nothing else, written from AWS's documentation, for running the
//! functions' real binaries the way a Lambda-compatible platform without the Extensions API does
//! (`tests/runtime_api_only.rs`): one server per function process, set as that process's
//! `AWS_LAMBDA_RUNTIME_API`.
//!
//! - `GET /2018-06-01/runtime/invocation/next` hands out the next event given to [`RuntimeApi::invoke`]
//!   (waiting for one, as Lambda's long poll does), with `Lambda-Runtime-Aws-Request-Id`,
//!   `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id`;
//! - `POST /2018-06-01/runtime/invocation/{id}/response`, `.../{id}/error` and
//!   `POST /2018-06-01/runtime/init/error` are answered 202 and become [`Outcome`]s;
//! - everything else is 404, the Extensions API (`/2020-01-01/extension/*`) in particular, unless
//!   the server was started [`RuntimeApi::with_extensions`]: then an extension may register (200
//!   with an identifier) and its `event/next` long poll is held open, never answered.
//!
//! The server runs on a thread of its own, so a test may block while the function works.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

/// How long a function has for one event: the deadline handed out with it.
const TIMEOUT: Duration = Duration::from_secs(30);

/// What a function process told the Runtime API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `POST /runtime/invocation/{id}/response`: the handler's answer.
    Response { request_id: String, body: Bytes },
    /// `POST /runtime/invocation/{id}/error`: the handler failed.
    Error { request_id: String, error_type: Option<String>, body: Bytes },
    /// `POST /runtime/init/error`: the function could not start.
    InitError { error_type: Option<String>, body: Bytes },
}

impl Outcome {
    /// The JSON body.
    pub fn json(&self) -> serde_json::Value {
        let (Outcome::Response { body, .. } | Outcome::Error { body, .. } | Outcome::InitError { body, .. }) = self;
        serde_json::from_slice(body).unwrap_or(serde_json::Value::Null)
    }
}

struct Invocation {
    request_id: String,
    event: Bytes,
}

struct State {
    function_arn: String,
    extensions: bool,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Invocation>>,
    outcomes: std_mpsc::Sender<Outcome>,
    requests: Mutex<Vec<String>>,
}

/// A running Runtime API (see the module docs). Dropping it stops the server.
pub struct RuntimeApi {
    address: SocketAddr,
    events: mpsc::UnboundedSender<Invocation>,
    outcomes: std_mpsc::Receiver<Outcome>,
    state: Arc<State>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RuntimeApi {
    /// The Runtime API alone, for the function `function_name`, on a free loopback port.
    pub fn start(function_name: &str) -> RuntimeApi {
        Self::spawn(function_name, false)
    }

    /// The Runtime API with a minimal Extensions API beside it (registration and a long poll that
    /// is never answered), as Lambda has.
    pub fn with_extensions(function_name: &str) -> RuntimeApi {
        Self::spawn(function_name, true)
    }

    fn spawn(function_name: &str, extensions: bool) -> RuntimeApi {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        listener.set_nonblocking(true).expect("a non-blocking listener");
        let address = listener.local_addr().expect("the listener's address");
        let (events, queued) = mpsc::unbounded_channel();
        let (outcome_sender, outcomes) = std_mpsc::channel();
        let state = Arc::new(State {
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function_name}"),
            extensions,
            events: tokio::sync::Mutex::new(queued),
            outcomes: outcome_sender,
            requests: Mutex::new(Vec::new()),
        });
        let (shutdown, stopped) = oneshot::channel();
        let served = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime");
            // Leaving `block_on` drops the runtime and with it every connection and long poll.
            runtime.block_on(serve(listener, served, stopped));
        });
        RuntimeApi { address, events, outcomes, state, shutdown: Some(shutdown), thread: Some(thread) }
    }

    /// The value of `AWS_LAMBDA_RUNTIME_API` for the function: `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Queues an event for the function's next `invocation/next`; returns its request id.
    pub fn invoke(&self, event: impl Into<Bytes>) -> String {
        let request_id = request_id();
        self.events.send(Invocation { request_id: request_id.clone(), event: event.into() }).expect("the server runs");
        request_id
    }

    /// The next thing the function reported, waiting at most `timeout`.
    pub fn outcome(&self, timeout: Duration) -> Option<Outcome> {
        self.outcomes.recv_timeout(timeout).ok()
    }

    /// Every request served so far, as `METHOD /path -> STATUS` (`-> held` for a long poll that
    /// has not been answered).
    pub fn requests(&self) -> Vec<String> {
        self.state.requests.lock().unwrap().clone()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(listener: std::net::TcpListener, state: Arc<State>, mut stopped: oneshot::Receiver<()>) {
    let listener = TcpListener::from_std(listener).expect("a Tokio listener");
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(state.clone(), req));
            let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

fn reply(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap()
}

fn accepted() -> Response<Full<Bytes>> {
    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (error_type, extension_name) = (header("lambda-runtime-function-error-type"), header("lambda-extension-name"));
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let log = |status: &str| state.requests.lock().unwrap().push(format!("{method} {path} -> {status}"));
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let response = match (&method, segments.as_slice()) {
        (&Method::GET, ["2018-06-01", "runtime", "invocation", "next"]) => {
            log("held");
            // Waits for an event, as Lambda does; a function that disconnects meanwhile leaves it
            // queued (`recv` is cancel-safe).
            let Some(invocation) = state.events.lock().await.recv().await else {
                return Ok(reply(StatusCode::INTERNAL_SERVER_ERROR, r#"{"errorMessage":"the server stops"}"#));
            };
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let deadline_ms = (now + TIMEOUT).as_millis();
            let trace = format!(
                "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=0",
                now.as_secs(),
                rand::random::<u128>() >> 32,
                rand::random::<u64>()
            );
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("lambda-runtime-aws-request-id", &invocation.request_id)
                .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
                .header("lambda-runtime-invoked-function-arn", &state.function_arn)
                .header("lambda-runtime-trace-id", trace)
                .body(Full::new(invocation.event))
                .unwrap()
        }
        (&Method::POST, ["2018-06-01", "runtime", "invocation", id, "response"]) => {
            let _ = state.outcomes.send(Outcome::Response { request_id: id.to_string(), body });
            accepted()
        }
        (&Method::POST, ["2018-06-01", "runtime", "invocation", id, "error"]) => {
            let _ = state.outcomes.send(Outcome::Error { request_id: id.to_string(), error_type, body });
            accepted()
        }
        (&Method::POST, ["2018-06-01", "runtime", "init", "error"]) => {
            let _ = state.outcomes.send(Outcome::InitError { error_type, body });
            accepted()
        }
        (&Method::POST, ["2020-01-01", "extension", "register"]) if state.extensions => {
            let (name, events) = (extension_name.unwrap_or_default(), String::from_utf8_lossy(&body));
            state.requests.lock().unwrap().push(format!("extension {name} registered for {events}"));
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("lambda-extension-identifier", request_id())
                .body(Full::new(Bytes::from(format!(
                    r#"{{"functionName":"{}","functionVersion":"$LATEST","handler":"bootstrap"}}"#,
                    state.function_arn.rsplit(':').next().unwrap_or_default()
                ))))
                .unwrap()
        }
        (&Method::GET, ["2020-01-01", "extension", "event", "next"]) if state.extensions => {
            log("held");
            std::future::pending::<()>().await;
            unreachable!("a long poll without events never ends")
        }
        _ => reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"not found","errorType":"NotFound"}"#),
    };
    log(response.status().as_str());
    Ok(response)
}

/// An id in the form of Lambda's request ids (a UUID).
fn request_id() -> String {
    let hex = format!("{:032x}", rand::random::<u128>());
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}
