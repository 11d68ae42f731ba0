//! What every HTTP handler does alike: read the bearer and queue tokens, the `Idempotency-Key`,
//! path parameters and JSON bodies, and turn results into JSON or problem+json responses.

use lambda_http::{Body, Request, RequestExt, Response};
use serde::{de::DeserializeOwned, Serialize};

use crate::app::App;
use crate::domain::ids::UserId;
use crate::domain::inputs::IdempotencyKey;
use crate::domain::tokens::{QueueTicket, TokenError};
use crate::error::ApiError;

/// The header that carries the queue token.
pub const QUEUE_TOKEN_HEADER: &str = "queue-token";

/// A JSON response with the given status.
pub fn json<T: Serialize>(status: u16, body: &T) -> Response<Body> {
    let body = serde_json::to_string(body).expect("API types serialize");
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("static headers are valid")
}

/// The handler's result as the response Lambda returns: errors become problem+json, and server
/// faults are logged with their cause.
pub fn finish(result: Result<Response<Body>, ApiError>) -> Result<Response<Body>, lambda_http::Error> {
    Ok(match result {
        Ok(response) => response,
        Err(err) => {
            if err.status().is_server_error() {
                tracing::error!(error = %err, "request failed");
            } else {
                tracing::info!(code = err.code(), "request refused");
            }
            err.to_response()
        }
    })
}

pub fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Parses the JSON body into `T`. Wrong syntax or types are 400; the domain's `parse`
/// constructors then judge the values.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Empty => b"",
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("INVALID_BODY", "a JSON body is required"));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request("INVALID_BODY", format!("invalid JSON body: {e}")))
}

/// A path parameter the route guarantees (`{scheduleId}` and the like).
pub fn path_param(req: &Request, name: &str) -> Result<String, ApiError> {
    req.path_parameters()
        .first(name)
        .map(str::to_owned)
        .ok_or_else(|| ApiError::bad_request("MISSING_PATH_PARAMETER", format!("the path needs {{{name}}}")))
}

pub fn query_param(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters().first(name).map(str::to_owned)
}

/// The optional `Idempotency-Key` header.
pub fn idempotency_key(req: &Request) -> Result<Option<IdempotencyKey>, ApiError> {
    header(req, "idempotency-key").map(IdempotencyKey::parse).transpose()
}

impl App {
    /// The user of the `Authorization: Bearer` access token.
    pub fn authenticate(&self, req: &Request) -> Result<UserId, ApiError> {
        let token = header(req, "authorization")
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .ok_or_else(|| ApiError::unauthorized("MISSING_TOKEN", "send Authorization: Bearer <accessToken>"))?;
        let now_secs = crate::domain::now_ms() / 1000;
        self.signer.verify_access(token, now_secs).map_err(|e| match e {
            TokenError::Expired => ApiError::unauthorized("TOKEN_EXPIRED", "the access token has expired; sign up again"),
            _ => ApiError::unauthorized("INVALID_TOKEN", "the access token is not valid"),
        })
    }

    /// The caller's `Queue-Token`. A token issued to another user is rejected like a forged one.
    pub fn queue_ticket(&self, req: &Request, user: &UserId) -> Result<QueueTicket, ApiError> {
        let token = header(req, QUEUE_TOKEN_HEADER)
            .ok_or_else(|| ApiError::unauthorized("MISSING_QUEUE_TOKEN", "send Queue-Token: <queueToken>"))?;
        match self.signer.verify_queue(token.trim()) {
            Ok(ticket) if &ticket.user == user => Ok(ticket),
            _ => Err(ApiError::unauthorized("INVALID_QUEUE_TOKEN", "the queue token is not valid for this user")),
        }
    }

    /// Operators send `X-Admin-Key: <ADMIN_KEY>`; with no ADMIN_KEY configured the admin
    /// endpoints are off.
    pub fn authorize_operator(&self, req: &Request) -> Result<(), ApiError> {
        let expected = self
            .config
            .admin_key
            .as_deref()
            .ok_or_else(|| ApiError::forbidden("ADMIN_DISABLED", "set ADMIN_KEY to enable the admin endpoints"))?;
        let given = header(req, "x-admin-key").unwrap_or_default();
        // Compare in constant time, so the key cannot be guessed byte by byte from response times.
        let same = given.len() == expected.len()
            && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if same {
            Ok(())
        } else {
            Err(ApiError::unauthorized("INVALID_ADMIN_KEY", "send X-Admin-Key with the operator key"))
        }
    }

    /// Both tokens, for the endpoints behind the waiting room.
    pub fn admitted_caller(&self, req: &Request) -> Result<QueueTicket, ApiError> {
        let user = self.authenticate(req)?;
        self.queue_ticket(req, &user)
    }
}

/// The answer of both queue endpoints: the token, its status and, while waiting, the position,
/// the ETA from the observed admission rate and a `Retry-After` that grows with the distance.
pub fn queue_status(status: u16, queue_token: &str, position: &crate::domain::queue::QueuePosition) -> Response<Body> {
    use crate::domain::models::rfc3339;
    use crate::domain::queue::{eta_seconds, retry_after_seconds, QueuePosition};
    use serde_json::json;
    let (body, retry_after) = match position {
        QueuePosition::Waiting { position, admitted_per_second } => {
            let eta = eta_seconds(*position, *admitted_per_second);
            let retry = retry_after_seconds(*position, eta);
            (
                json!({ "queueToken": queue_token, "status": "WAITING", "position": position, "etaSeconds": eta, "retryAfterSeconds": retry }),
                Some(retry),
            )
        }
        QueuePosition::Active { expires_at_ms } => {
            (json!({ "queueToken": queue_token, "status": "ACTIVE", "expiresAt": rfc3339(*expires_at_ms) }), None)
        }
        QueuePosition::Expired => (json!({ "queueToken": queue_token, "status": "EXPIRED" }), None),
    };
    let mut resp = json(status, &body);
    if let Some(seconds) = retry_after {
        resp.headers_mut().insert("retry-after", seconds.into());
    }
    resp.headers_mut().insert("cache-control", "no-store".parse().unwrap());
    resp
}
