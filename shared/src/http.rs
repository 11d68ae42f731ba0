//! What every HTTP handler does alike: read headers, path and query parameters, the
//! `Idempotency-Key` and JSON bodies, and turn results into JSON or problem+json responses.

use lambda_http::{Body, Request, RequestExt, Response};
use serde::{de::DeserializeOwned, Serialize};
use serde_json::json;

use crate::domain::ids::ConcertId;
use crate::domain::inputs::IdempotencyKey;
use crate::domain::models::rfc3339;
use crate::domain::queue::{eta_seconds, retry_after_seconds, QueuePosition};
use crate::error::{ApiError, ErrorCode};

/// What every HTTP handler returns; [`respond`] turns it into the response.
pub type HttpResult = Result<Response<Body>, ApiError>;

/// A JSON response with the given status.
pub fn json<T: Serialize>(status: u16, body: &T) -> Response<Body> {
    let body = serde_json::to_string(body).expect("API types serialize");
    Response::builder().status(status).header("content-type", "application/json").body(Body::from(body)).expect("static headers are valid")
}

/// The handler's result as the response Lambda returns: errors become problem+json, and server
/// faults are logged with their cause.
pub fn respond(result: HttpResult) -> Response<Body> {
    match result {
        Ok(response) => response,
        Err(err) => {
            if err.status().is_server_error() {
                tracing::error!(code = err.code().as_str(), cause = err.cause(), "request failed");
            } else {
                tracing::info!(code = err.code().as_str(), "request refused");
            }
            err.to_response()
        }
    }
}

pub fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Parses the JSON body into `T`. Wrong syntax or types are 400; the domain's `parse`
/// constructors then judge the values.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(ErrorCode::InvalidBody, "a JSON body is required"));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::new(ErrorCode::InvalidBody, format!("invalid JSON body: {e}")))
}

/// A path parameter the route guarantees (`{scheduleId}` and the like).
pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    req.path_parameters()
        .first(name)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::new(ErrorCode::MissingPathParameter, format!("the path needs {{{name}}}")))
}

/// The caller's address as API Gateway saw it (`requestContext.http.sourceIp`).
pub fn client_address(req: &Request) -> String {
    match req.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters().first(name).map(str::to_owned)
}

/// The optional `Idempotency-Key` header.
pub fn idempotency_key(req: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    Ok(header(req, "idempotency-key").map(IdempotencyKey::parse).transpose()?)
}

/// A page of the web front end: HTML with its CSS and JavaScript inline, cacheable for five
/// minutes, allowed to talk to this origin only.
pub fn html_page(body: &'static str) -> Response<Body> {
    Response::builder()
        .status(200)
        .header("content-type", "text/html; charset=utf-8")
        .header("cache-control", "public, max-age=300")
        .header(
            "content-security-policy",
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .body(Body::from(body))
        .expect("static headers are valid")
}

/// Lets browsers and CDNs keep a public response for `seconds` and serve it a while longer while
/// they fetch a fresh one: what the public catalog wants under a drop's crowd.
pub fn public_for(mut resp: Response<Body>, seconds: u64) -> Response<Body> {
    let value = format!("public, max-age={seconds}, s-maxage={seconds}, stale-while-revalidate={}", seconds * 6);
    resp.headers_mut().insert("cache-control", value.parse().expect("ASCII header"));
    resp
}

/// Marks a response as the replay of an earlier request with the same effect.
pub fn mark_replayed(resp: &mut Response<Body>) {
    resp.headers_mut().insert("idempotency-replayed", "true".parse().expect("static header"));
}

/// The answer of the queue endpoints: the token, its concert, its status and, while waiting, the
/// position, the ETA from the observed admission rate and a `Retry-After` that grows with the
/// distance (in the pre-queue: the time to the opening, at most 30 s).
pub fn queue_status(status: u16, queue_token: &str, concert: &ConcertId, position: &QueuePosition, now_ms: u64) -> Response<Body> {
    let (mut body, retry_after) = match position {
        QueuePosition::Prequeue { opens_at_ms } => {
            let retry = (opens_at_ms.saturating_sub(now_ms) / 1000).clamp(1, 30);
            (json!({ "status": "PREQUEUE", "opensAt": rfc3339(*opens_at_ms), "retryAfterSeconds": retry }), Some(retry))
        }
        QueuePosition::Waiting { position, admitted_per_second, paused } => {
            let eta = if *paused { None } else { eta_seconds(*position, *admitted_per_second) };
            // A paused line waits for the operator: ask every 10 s, so fans move on soon after a resume.
            let retry = if *paused { 10 } else { retry_after_seconds(*position, eta) };
            let room = if *paused { "PAUSED" } else { "OPEN" };
            (
                json!({ "status": "WAITING", "position": position, "etaSeconds": eta, "retryAfterSeconds": retry, "roomStatus": room }),
                Some(retry),
            )
        }
        QueuePosition::Active { expires_at_ms } => (json!({ "status": "ACTIVE", "expiresAt": rfc3339(*expires_at_ms) }), None),
        QueuePosition::SoldOut => (json!({ "status": "SOLD_OUT" }), None),
        QueuePosition::Expired => (json!({ "status": "EXPIRED" }), None),
    };
    body["queueToken"] = queue_token.into();
    body["concertId"] = concert.as_str().into();
    let mut resp = json(status, &body);
    if let Some(seconds) = retry_after {
        resp.headers_mut().insert("retry-after", seconds.into());
    }
    resp.headers_mut().insert("cache-control", "no-store".parse().expect("static header"));
    resp
}
