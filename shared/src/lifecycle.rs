//! What a function process does around lambda_runtime's invocation loop, written against the
//! Lambda Runtime API and Extensions API themselves so that a function serves on any runtime that
//! speaks the Runtime API, including the Lambda-compatible platforms and emulators that offer the
//! Runtime API alone (no Extensions API: they answer 404 to `/2020-01-01/extension/*`).
//!
//! - [`report_init_error`]: a start that fails (bad settings, a store that cannot be reached, bad
//!   Kafka settings) is reported to `POST /2018-06-01/runtime/init/error` with an error type
//!   ([`startup`]) before the process exits, as the Runtime API asks. lambda_runtime 1.5 reports
//!   init errors only after a SnapStart restore.
//! - [`on_shutdown`]: graceful shutdown. Lambda sends a runtime SIGTERM before stopping it only
//!   when an extension is registered, so this registers a no-op internal extension (subscribed to
//!   no event, its `event/next` long poll never answered), as lambda_runtime's
//!   `spawn_graceful_shutdown_handler` does. That one `.expect`s the registration, and so panics
//!   where there is no Extensions API (and, with `panic = "abort"`, kills the function before it
//!   answers anything); here a failed registration is a warning and the function serves all the
//!   same, without the SIGTERM that Lambda would not send anyway.

use std::future::Future;
use std::time::Duration;

use lambda_http::http::response::Parts;
use lambda_http::http::{Request, StatusCode, Uri};
use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{BoxError, Client};

/// Where the Runtime API listens (`host:port`); Lambda and every compatible runtime set it.
pub const RUNTIME_API_VAR: &str = "AWS_LAMBDA_RUNTIME_API";

/// The name of the no-op extension (internal extension names are unique within a function).
pub const SHUTDOWN_EXTENSION: &str = "_ticketing-graceful-shutdown";

/// How long a call of this module waits for the Runtime API (the long poll excepted).
const CALL_TIMEOUT: Duration = Duration::from_secs(2);

/// The `errorType`s a failed start is reported with to `/runtime/init/error`, by what failed.
pub mod startup {
    /// A setting is missing or malformed (`Config::from_env`).
    pub const CONFIG: &str = "Startup.Config";
    /// A secret named by `AUTH_SECRET_ID` / `ADMIN_KEY_ID` could not be read or is unfit.
    pub const SECRETS: &str = "Startup.Secrets";
    /// Redis could not be reached or refused the connection. (A `REDIS_URL`, `KEY_PREFIX` or
    /// `REDIS_CA_FILE` that cannot work is [`CONFIG`].)
    pub const STORE: &str = "Startup.Store";
    /// The Kafka producer could not be built from the `KAFKA_*` settings.
    pub const KAFKA: &str = "Startup.Kafka";
}

/// The Runtime API of this process, when a Lambda runtime started it.
pub fn runtime_api() -> Option<String> {
    std::env::var(RUNTIME_API_VAR).ok().filter(|api| !api.trim().is_empty())
}

fn client(api: &str) -> Result<Client, BoxError> {
    let endpoint: Uri = api.parse().map_err(|e| format!("{RUNTIME_API_VAR}={api:?}: {e}"))?;
    Ok(Client::builder().with_endpoint(endpoint).build()?)
}

/// An error and its sources, on one line.
pub fn message(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Tells the Runtime API that the function could not start (`POST /runtime/init/error`), with
/// `error_type` (one of [`startup`]) in the `Lambda-Runtime-Function-Error-Type` header and the
/// `{"errorMessage", "errorType"}` body. Does nothing outside a Lambda runtime; a report that
/// fails is logged, since the process is about to exit anyway.
pub async fn report_init_error(error: &dyn std::error::Error, error_type: &str) {
    let Some(api) = runtime_api() else { return };
    if let Err(e) = post_init_error(&api, &message(error), error_type).await {
        tracing::warn!(error = %e, error_type, "could not report the failed start to the Runtime API");
    }
}

async fn post_init_error(api: &str, message: &str, error_type: &str) -> Result<(), BoxError> {
    let body = serde_json::json!({ "errorMessage": message, "errorType": error_type }).to_string();
    let request = Request::post("/2018-06-01/runtime/init/error")
        .header("Lambda-Runtime-Function-Error-Type", error_type)
        .header("content-type", "application/json")
        .body(Body::from(body))?;
    let response = call(&client(api)?, request).await?;
    if !response.status.is_success() {
        return Err(format!("the Runtime API answered {}", response.status).into());
    }
    Ok(())
}

/// One call, bounded by [`CALL_TIMEOUT`]: the answer's status and headers (its body is not read).
async fn call(client: &Client, request: Request<Body>) -> Result<Parts, BoxError> {
    let response =
        tokio::time::timeout(CALL_TIMEOUT, client.call(request)).await.map_err(|_| format!("no answer within {CALL_TIMEOUT:?}"))??;
    Ok(response.into_parts().0)
}

/// Runs `hook` when the process is asked to stop (SIGTERM, or SIGINT), then exits with status 0.
/// Call it at start-up, before the handler runs (`lambda_runtime::run` ends Lambda's Init phase,
/// after which no extension may register).
///
/// Under a Lambda runtime it first registers the no-op extension that makes Lambda send SIGTERM;
/// where the runtime has no Extensions API it logs a warning and goes on. The signal is listened
/// for either way, for the platforms that send it without an extension. Returns whether the
/// extension was registered.
pub async fn on_shutdown<F, Fut>(hook: F) -> bool
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let registered = match runtime_api() {
        Some(api) => register_no_op_extension(&api).await,
        None => false,
    };
    use tokio::signal::unix::{signal, SignalKind};
    let (mut terminate, mut interrupt) = match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "cannot listen for SIGTERM: no graceful shutdown");
            return registered;
        }
    };
    tokio::spawn(async move {
        let signal = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        tracing::info!(signal, "graceful shutdown");
        hook().await;
        tracing::info!("graceful shutdown complete");
        std::process::exit(0);
    });
    registered
}

/// Registers the no-op extension with the Extensions API of `api` and keeps its long poll open in
/// a task. `false`, with a warning, where the runtime refuses or lacks the Extensions API.
pub async fn register_no_op_extension(api: &str) -> bool {
    match register(api, SHUTDOWN_EXTENSION).await {
        Ok((client, id)) => {
            tokio::spawn(poll_events(client, id));
            true
        }
        Err(e) => {
            tracing::warn!(
                error = %e,
                "no Lambda Extensions API here (a runtime with the Runtime API alone): Lambda would not send SIGTERM, so \
                 shutdown work (flushing the Kafka producer) runs only if the platform sends the signal anyway"
            );
            false
        }
    }
}

/// `POST /2020-01-01/extension/register` for an extension subscribed to no event; the answer's
/// `Lambda-Extension-Identifier` names it in its later calls.
async fn register(api: &str, name: &str) -> Result<(Client, String), BoxError> {
    let client = client(api)?;
    let request = Request::post("/2020-01-01/extension/register")
        .header("Lambda-Extension-Name", name)
        .header("content-type", "application/json")
        .body(Body::from(r#"{"events":[]}"#))?;
    let response = call(&client, request).await?;
    if response.status != StatusCode::OK {
        return Err(format!("extension registration answered {}", response.status).into());
    }
    let id = response
        .headers
        .get("Lambda-Extension-Identifier")
        .and_then(|id| id.to_str().ok())
        .ok_or("extension registration answered no Lambda-Extension-Identifier")?
        .to_owned();
    Ok((client, id))
}

/// The extension's `GET /2020-01-01/extension/event/next`: Lambda counts an extension ready (and
/// ends the Init phase) once it asks, and never answers an extension subscribed to no event. Should
/// a runtime answer anyway, ask again; stop when it refuses.
async fn poll_events(client: Client, id: String) {
    loop {
        let request = match Request::get("/2020-01-01/extension/event/next").header("Lambda-Extension-Identifier", &id).body(Body::empty())
        {
            Ok(request) => request,
            Err(e) => return tracing::warn!(error = %e, "the extension identifier is not a header value"),
        };
        match client.call(request).await {
            Ok(response) if response.status().is_success() => continue,
            Ok(response) => return tracing::debug!(status = %response.status(), "the Extensions API stopped the no-op extension"),
            Err(e) => return tracing::debug!(error = %e, "the no-op extension's long poll ended"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::mpsc;

    /// One request as a server received it: the request line, the headers (lower-case names) and
    /// the body.
    #[derive(Debug)]
    struct Seen {
        line: String,
        headers: Vec<(String, String)>,
        body: String,
    }

    impl Seen {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }
    }

    /// A bare HTTP/1.1 server on a free port: `answer` gives the whole answer to a request line,
    /// or `None` to hold the request open (a long poll). Every request is sent to the receiver.
    async fn serve(answer: fn(&str) -> Option<&'static str>) -> (String, mpsc::UnboundedReceiver<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (seen, requests) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(connection(stream, answer, seen.clone()));
            }
        });
        (address, requests)
    }

    async fn connection(mut stream: TcpStream, answer: fn(&str) -> Option<&'static str>, seen: mpsc::UnboundedSender<Seen>) {
        let mut buffer = Vec::new();
        loop {
            let head_end = loop {
                if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                    break end;
                }
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                }
            };
            let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
            let mut lines = head.split("\r\n");
            let line = lines.next().unwrap_or_default().to_owned();
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
                .collect();
            let length: usize = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
            while buffer.len() < head_end + 4 + length {
                let mut chunk = [0u8; 4096];
                match stream.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                }
            }
            let body = String::from_utf8_lossy(&buffer[head_end + 4..head_end + 4 + length]).into_owned();
            buffer.drain(..head_end + 4 + length);
            let reply = answer(&line);
            let _ = seen.send(Seen { line, headers, body });
            match reply {
                Some(reply) => {
                    if stream.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
                None => return std::future::pending().await,
            }
        }
    }

    const NOT_FOUND: &str = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n";

    /// A runtime with the Runtime API alone.
    fn runtime_api_only(_: &str) -> Option<&'static str> {
        Some(NOT_FOUND)
    }

    /// A runtime with an Extensions API too: registration answers an identifier, the long poll
    /// never answers, an init error is accepted.
    fn with_extensions(line: &str) -> Option<&'static str> {
        if line.starts_with("POST /2020-01-01/extension/register ") {
            Some("HTTP/1.1 200 OK\r\nlambda-extension-identifier: ext-7\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}")
        } else if line.starts_with("GET /2020-01-01/extension/event/next ") {
            None
        } else if line.starts_with("POST /2018-06-01/runtime/init/error ") {
            Some("HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{\"status\":\"OK\"}")
        } else {
            Some(NOT_FOUND)
        }
    }

    async fn next(requests: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
        tokio::time::timeout(Duration::from_secs(5), requests.recv()).await.expect("a request within 5 s").expect("the server runs")
    }

    #[tokio::test]
    async fn without_an_extensions_api_the_registration_fails_softly() {
        let (api, mut requests) = serve(runtime_api_only).await;
        assert!(!register_no_op_extension(&api).await, "a 404 is no registration");
        let seen = next(&mut requests).await;
        assert!(seen.line.starts_with("POST /2020-01-01/extension/register "), "{seen:?}");
    }

    #[tokio::test]
    async fn with_an_extensions_api_the_no_op_extension_registers_and_keeps_polling() {
        let (api, mut requests) = serve(with_extensions).await;
        assert!(register_no_op_extension(&api).await);
        let register = next(&mut requests).await;
        assert!(register.line.starts_with("POST /2020-01-01/extension/register "), "{register:?}");
        assert_eq!(register.header("lambda-extension-name"), Some(SHUTDOWN_EXTENSION));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&register.body).unwrap(), serde_json::json!({ "events": [] }));
        let poll = next(&mut requests).await;
        assert!(poll.line.starts_with("GET /2020-01-01/extension/event/next "), "{poll:?}");
        assert_eq!(poll.header("lambda-extension-identifier"), Some("ext-7"));
    }

    #[tokio::test]
    async fn a_failed_start_is_posted_to_init_error_with_its_type() {
        let (api, mut requests) = serve(with_extensions).await;
        let error = crate::config::Config::from_lookup(|name| (name == "AUTH_SECRET").then(|| "short".to_owned())).unwrap_err();
        post_init_error(&api, &message(&error), startup::CONFIG).await.unwrap();
        let seen = next(&mut requests).await;
        assert!(seen.line.starts_with("POST /2018-06-01/runtime/init/error "), "{seen:?}");
        assert_eq!(seen.header("lambda-runtime-function-error-type"), Some("Startup.Config"));
        let body: serde_json::Value = serde_json::from_str(&seen.body).unwrap();
        assert_eq!(body["errorType"], "Startup.Config");
        assert!(body["errorMessage"].as_str().unwrap().contains("AUTH_SECRET"), "{body}");
    }

    #[tokio::test]
    async fn a_report_the_runtime_refuses_is_an_error_not_a_hang() {
        let (api, _requests) = serve(runtime_api_only).await;
        let error = std::io::Error::other("boom");
        assert!(post_init_error(&api, &message(&error), startup::STORE).await.unwrap_err().to_string().contains("404"));
    }

    #[test]
    fn a_message_carries_the_sources() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot start")]
        struct Outer(#[source] std::io::Error);
        assert_eq!(message(&Outer(std::io::Error::other("connection refused"))), "cannot start: connection refused");
    }
}
