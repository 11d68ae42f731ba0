//! What every HTTP handler does alike: read headers, path and query parameters, the
//! `Idempotency-Key` and JSON bodies, and turn results into JSON or problem+json responses.

use lambda_http::http::header::{self, AsHeaderName, HeaderValue};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::{de::DeserializeOwned, Serialize};

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
    // Names and values as constants: every request writes these, and parsing them is not free.
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status.try_into().expect("a valid status");
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
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

/// A header's value as text (`None` when absent or not visible ASCII). Handlers on hot paths
/// pass a `HeaderName` constant, which spares parsing the name on every request.
pub fn header(req: &Request, name: impl AsHeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The largest request body any endpoint reads: a concert of 100 schedules, pretty-printed,
/// is about 12 KiB. Larger bodies are refused before they are parsed.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// Parses the JSON body into `T`. A body sent as another media type is 415, one above
/// [`MAX_BODY_BYTES`] 413; wrong syntax, types, invalid UTF-8 or nesting deeper than 128 levels
/// (serde_json's limit) are 400. The domain's `parse` constructors then judge the values.
pub fn parse_json<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = match req.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => b"",
    };
    if let Some(media_type) = req.headers().get("content-type") {
        if !is_json_media_type(media_type.as_bytes()) {
            let shown = String::from_utf8_lossy(media_type.as_bytes()).chars().take(100).collect::<String>();
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType, format!("the body must be application/json, not {shown:?}")));
        }
    }
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            ErrorCode::BodyTooLarge,
            format!("the body is {} bytes; at most {MAX_BODY_BYTES} are read", bytes.len()),
        ));
    }
    // JSON is UTF-8 (RFC 8259), also in the members serde skips without reading them.
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Err(ApiError::new(ErrorCode::InvalidBody, "the body is not UTF-8"));
    };
    if text.trim().is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidBody, "a JSON body is required"));
    }
    serde_json::from_str(text).map_err(|e| ApiError::new(ErrorCode::InvalidBody, format!("invalid JSON body: {e}")))
}

/// `application/json` or a `+json` type (RFC 6839), with any parameters (`; charset=utf-8`).
/// A request without `Content-Type` is read as JSON: `cargo lambda invoke` fixtures and plain
/// clients often send none.
fn is_json_media_type(value: &[u8]) -> bool {
    let Ok(value) = std::str::from_utf8(value) else { return false };
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
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
    resp.headers_mut().insert(header::CACHE_CONTROL, value.parse().expect("ASCII header"));
    resp
}

/// Marks a response as the replay of an earlier request with the same effect.
pub fn mark_replayed(resp: &mut Response<Body>) {
    resp.headers_mut().insert("idempotency-replayed", HeaderValue::from_static("true"));
}

/// The answer of the queue endpoints: the token, its concert, its status and, while waiting, the
/// position, the ETA from the observed admission rate and a `Retry-After` that grows with the
/// distance (in the pre-queue: the time to the opening, at most 30 s).
pub fn queue_status(status: u16, queue_token: &str, concert: &ConcertId, position: &QueuePosition, now_ms: u64) -> Response<Body> {
    let mut body = QueueStatusBody { queue_token, concert_id: concert.as_str(), ..Default::default() };
    let retry_after = match position {
        QueuePosition::Prequeue { opens_at_ms } => {
            let retry = (opens_at_ms.saturating_sub(now_ms) / 1000).clamp(1, 30);
            body.status = "PREQUEUE";
            body.opens_at = Some(rfc3339(*opens_at_ms));
            Some(retry)
        }
        QueuePosition::Waiting { position, admitted_per_second, paused, place } => {
            let eta = if *paused { None } else { eta_seconds(*position, *admitted_per_second) };
            // A paused line waits for the operator: ask every 10 s, so fans move on soon after a resume.
            let retry = if *paused { 10 } else { retry_after_seconds(*position, eta) };
            body.status = "WAITING";
            body.position = Some(*position);
            body.place = Some(*place);
            body.eta_seconds = Some(eta);
            body.room_status = Some(if *paused { "PAUSED" } else { "OPEN" });
            Some(retry)
        }
        QueuePosition::Active { expires_at_ms } => {
            body.status = "ACTIVE";
            body.expires_at = Some(rfc3339(*expires_at_ms));
            None
        }
        QueuePosition::SoldOut => {
            body.status = "SOLD_OUT";
            None
        }
        QueuePosition::Expired => {
            body.status = "EXPIRED";
            None
        }
    };
    body.retry_after_seconds = retry_after;
    let mut resp = json(status, &body);
    if let Some(seconds) = retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, seconds.into());
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The queue endpoints' body. A typed struct rather than a `serde_json::Value`, as every waiting
/// fan's poll writes one; its fields are in the order a `Value` would write them (alphabetical),
/// and `etaSeconds` of a waiting ticket is `null` when no rate is known yet.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct QueueStatusBody<'a> {
    concert_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    eta_seconds: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    opens_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<u64>,
    queue_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    room_status: Option<&'static str>,
    status: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::header::CONTENT_TYPE;

    /// The body as it was written before it was typed: a `serde_json::Value`, keys sorted.
    fn value_body(queue_token: &str, concert: &ConcertId, position: &QueuePosition, now_ms: u64) -> serde_json::Value {
        use serde_json::json;
        let mut body = match position {
            QueuePosition::Prequeue { opens_at_ms } => {
                let retry = (opens_at_ms.saturating_sub(now_ms) / 1000).clamp(1, 30);
                json!({ "status": "PREQUEUE", "opensAt": rfc3339(*opens_at_ms), "retryAfterSeconds": retry })
            }
            QueuePosition::Waiting { position, admitted_per_second, paused, place } => {
                let eta = if *paused { None } else { eta_seconds(*position, *admitted_per_second) };
                let retry = if *paused { 10 } else { retry_after_seconds(*position, eta) };
                let room = if *paused { "PAUSED" } else { "OPEN" };
                json!({ "status": "WAITING", "position": position, "place": place, "etaSeconds": eta, "retryAfterSeconds": retry, "roomStatus": room })
            }
            QueuePosition::Active { expires_at_ms } => json!({ "status": "ACTIVE", "expiresAt": rfc3339(*expires_at_ms) }),
            QueuePosition::SoldOut => json!({ "status": "SOLD_OUT" }),
            QueuePosition::Expired => json!({ "status": "EXPIRED" }),
        };
        body["queueToken"] = queue_token.into();
        body["concertId"] = concert.as_str().into();
        body
    }

    #[test]
    fn the_queue_status_body_is_byte_for_byte_what_the_untyped_one_was() {
        let concert = ConcertId::parse("08e0afb0b17af24813598711d26f3ed4").unwrap();
        let now = 1_795_000_000_000;
        let positions = [
            QueuePosition::Prequeue { opens_at_ms: now + 45_500 },
            QueuePosition::Waiting { position: 12, admitted_per_second: Some(3.5), paused: false, place: 40 },
            QueuePosition::Waiting { position: 12, admitted_per_second: None, paused: false, place: 40 },
            QueuePosition::Waiting { position: 7, admitted_per_second: Some(3.5), paused: true, place: 9 },
            QueuePosition::Active { expires_at_ms: now + 600_000 },
            QueuePosition::SoldOut,
            QueuePosition::Expired,
        ];
        for position in &positions {
            let resp = queue_status(200, "qt.a.b.1.sig", &concert, position, now);
            let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            let Body::Text(text) = resp.body() else { panic!("a JSON body is text") };
            let expected = value_body("qt.a.b.1.sig", &concert, position, now);
            assert_eq!(text, &serde_json::to_string(&expected).unwrap(), "{position:?}");
            assert_eq!(retry, expected["retryAfterSeconds"].as_u64(), "{position:?}");
            assert_eq!(resp.headers()["cache-control"], "no-store");
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Amount {
        #[allow(dead_code)]
        amount: u64,
    }

    fn post(content_type: Option<&str>, body: Body) -> Request {
        let mut req = Request::new(body);
        if let Some(value) = content_type {
            req.headers_mut().insert(CONTENT_TYPE, value.parse().unwrap());
        }
        req
    }

    fn refusal(content_type: Option<&str>, body: Body) -> (u16, &'static str) {
        let err = parse_json::<Amount>(&post(content_type, body)).unwrap_err();
        (err.status().as_u16(), err.code().as_str())
    }

    #[test]
    fn json_bodies_are_read_with_or_without_a_json_content_type() {
        for content_type in [
            None,
            Some("application/json"),
            Some("application/json; charset=utf-8"),
            Some("Application/JSON"),
            Some("application/merge-patch+json"),
        ] {
            assert!(parse_json::<Amount>(&post(content_type, Body::from(r#"{"amount":5}"#))).is_ok(), "{content_type:?}");
        }
    }

    #[test]
    fn hostile_bodies_are_refused_with_their_own_code() {
        let json = |s: String| Body::from(s);
        let text = Some("application/json");
        for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp", ""]
        {
            assert_eq!(refusal(Some(content_type), json(r#"{"amount":5}"#.into())), (415, "UNSUPPORTED_MEDIA_TYPE"), "{content_type}");
        }
        let padded = format!(r#"{{"amount":5,"pad":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert_eq!(refusal(text, json(padded)), (413, "BODY_TOO_LARGE"));
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(refusal(text, json(deep)), (400, "INVALID_BODY"));
        assert_eq!(refusal(text, json(r#"{"amount":184467440737095516160}"#.into())), (400, "INVALID_BODY"));
        assert_eq!(refusal(text, json(r#"{"amount":1e400}"#.into())), (400, "INVALID_BODY"));
        assert_eq!(refusal(text, json(r#"{"amount":-1}"#.into())), (400, "INVALID_BODY"));
        assert_eq!(refusal(text, Body::Binary(b"{\"amount\":5,\"x\":\"\xff\xfe\"}".to_vec())), (400, "INVALID_BODY"));
        assert_eq!(refusal(text, Body::Empty), (400, "INVALID_BODY"));
        assert_eq!(refusal(text, json(r#"{"amount":5"#.into())), (400, "INVALID_BODY"));
    }
}
