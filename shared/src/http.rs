//! What every HTTP handler does alike: read headers, path and query parameters, the
//! `Idempotency-Key` and JSON bodies, and turn results into JSON or problem+json responses,
//! counting the refusals of fans in their room for the operator's report ([`answer`]).

use lambda_http::http::header::{self, AsHeaderName, HeaderValue};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::{de::DeserializeOwned, Serialize};

use std::cell::RefCell;
use std::future::Future;

use crate::app::App;
use crate::domain::ids::ConcertId;
use crate::domain::inputs::IdempotencyKey;
use crate::error::{ApiError, ErrorCode};

tokio::task_local! {
    /// The room of the request's verified queue token, once its handler read it ([`note_room`]).
    static ROOM: RefCell<Option<ConcertId>>;
}

/// Notes the room a request is about, from its verified queue token (`App::queue_ticket`): a
/// refusal of the request is then counted in that room's report. Only verified tokens name a
/// room, so nobody can make counters for rooms that do not exist.
pub fn note_room(concert: &ConcertId) {
    let _ = ROOM.try_with(|room| *room.borrow_mut() = Some(concert.clone()));
}

/// Runs a handler to its response ([`respond`]). A refusal (4xx or 5xx) of a request whose queue
/// token named a room is counted in that room by status and code, for the operator's report
/// (`QueueStore::count_error`): one more write on a refused request, none on the others. Every
/// function's entry (`entry.rs`) and the local gateway answer through this.
pub async fn answer(app: &App, handler: impl Future<Output = HttpResult>) -> Response<Body> {
    let (result, room) = ROOM
        .scope(RefCell::new(None), async {
            let result = handler.await;
            (result, ROOM.with(|room| room.take()))
        })
        .await;
    if let (Err(err), Some(room)) = (&result, room) {
        if let Err(e) = app.store.queue.count_error(&room, err.status().as_u16(), err.code().as_str()).await {
            tracing::warn!(error = %e, "a refusal was not counted in its room's report");
        }
    }
    respond(result)
}

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
    parse_json_up_to(req, MAX_BODY_BYTES)
}

/// The bodies of operators' bulk loads (a stadium's presale codes): at most 4 MiB, under the
/// 6 MB a Lambda function may be sent.
pub const MAX_BULK_BODY_BYTES: usize = 4 * 1024 * 1024;

/// [`parse_json`] with a body limit of `max_bytes`.
pub fn parse_json_up_to<T: DeserializeOwned>(req: &Request, max_bytes: usize) -> Result<T, ApiError> {
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
    if bytes.len() > max_bytes {
        return Err(ApiError::new(ErrorCode::BodyTooLarge, format!("the body is {} bytes; at most {max_bytes} are read", bytes.len())));
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

/// The route API Gateway matched (`requestContext.routeKey`, e.g. `POST /payments`).
pub fn route_key(req: &Request) -> String {
    match req.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(ctx)) => ctx.route_key.clone().unwrap_or_default(),
        _ => String::new(),
    }
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
            "default-src 'none'; script-src 'unsafe-inline'; worker-src blob:; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        )
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .body(Body::from(body))
        .expect("static headers are valid")
}

/// The CSS the fan's page and the operator's console share (`shared/assets/pages.css`).
pub const PAGE_BASE_CSS: &str = include_str!("../assets/pages.css");

/// `page` with the shared CSS put where its `<style>` says `/* base.css */`.
pub fn with_base_css(page: &str) -> String {
    page.replacen("/* base.css */", PAGE_BASE_CSS, 1)
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

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::header::CONTENT_TYPE;

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
