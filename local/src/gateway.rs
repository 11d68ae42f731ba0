//! Serving every function's route from `template.yaml` on one port by calling the handlers
//! in-process, as API Gateway (HTTP API, v2) would hand requests over: path parameters, query
//! string parameters and a request context in the request's extensions. `GET /__ping` is a
//! trivial handler served the same way and `GET /__get` one that makes exactly one Redis `GET`,
//! the baselines for measuring the functions behind them;
//! `GET /__stats` answers the gateway's own latency per route (`stats.rs`), `DELETE /__stats`
//! empties it; `GET /openapi.json` is the API's contract (`docs/openapi.json`).
//! [`start`] also starts what the cloud runs around the functions (`runners.rs`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequestContext, ApiGatewayV2httpRequestContextHttpDescription};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt};
use serde_json::json;
use ticketing::http::{answer, HttpResult};
use ticketing::App;
use tokio::net::TcpListener;

use crate::template::{functions, TEMPLATE};

type HandlerFuture = Pin<Box<dyn Future<Output = HttpResult> + Send>>;
type HttpHandler = fn(&'static App, Request) -> HandlerFuture;

/// The in-process handler of each HTTP function of the template.
fn http_handler(function: &str) -> Option<HttpHandler> {
    Some(match function {
        "fan-page" => |app, req| Box::pin(fan_page::handle(app, req)),
        "operator-page" => |app, req| Box::pin(operator_page::handle(app, req)),
        "signup" => |app, req| Box::pin(signup::handle(app, req)),
        "get-balance" => |app, req| Box::pin(get_balance::handle(app, req)),
        "charge-balance" => |app, req| Box::pin(charge_balance::handle(app, req)),
        "issue-token" => |app, req| Box::pin(issue_token::handle(app, req)),
        "get-challenge" => |app, req| Box::pin(get_challenge::handle(app, req)),
        "token-status" => |app, req| Box::pin(token_status::handle(app, req)),
        "leave-queue" => |app, req| Box::pin(leave_queue::handle(app, req)),
        "get-concert" => |app, req| Box::pin(get_concert::handle(app, req)),
        "room-state" => |app, req| Box::pin(room_state::handle(app, req)),
        "get-lottery" => |app, req| Box::pin(get_lottery::handle(app, req)),
        "room-status" => |app, req| Box::pin(room_status::handle(app, req)),
        "room-report" => |app, req| Box::pin(room_report::handle(app, req)),
        "update-room" => |app, req| Box::pin(update_room::handle(app, req)),
        "add-codes" => |app, req| Box::pin(add_codes::handle(app, req)),
        "list-concerts" => |app, req| Box::pin(list_concerts::handle(app, req)),
        "list-seats" => |app, req| Box::pin(list_seats::handle(app, req)),
        "hold-seat" => |app, req| Box::pin(hold_seat::handle(app, req)),
        "pay" => |app, req| Box::pin(pay::handle(app, req)),
        "my-reservations" => |app, req| Box::pin(my_reservations::handle(app, req)),
        "create-concert" => |app, req| Box::pin(create_concert::handle(app, req)),
        "sales-report" => |app, req| Box::pin(sales_report::handle(app, req)),
        _ => return None,
    })
}

struct Route {
    method: String,
    /// Path segments; `Some(name)` is a `{name}` parameter.
    segments: Vec<(String, Option<String>)>,
    function: String,
    handler: HttpHandler,
}

impl Route {
    /// The path parameters when the path, split into `parts`, matches. Literal segments are
    /// compared before any parameter is decoded, so trying the routes in turn costs no
    /// allocation until one matches.
    fn matches(&self, parts: &[&str]) -> Option<HashMap<String, String>> {
        let fits = parts.len() == self.segments.len()
            && parts.iter().zip(&self.segments).all(|(part, (literal, param))| match param {
                Some(_) => !part.is_empty(),
                None => part == literal,
            });
        fits.then(|| {
            parts.iter().zip(&self.segments).filter_map(|(part, (_, param))| Some((param.clone()?, percent_decode(part)))).collect()
        })
    }
}

pub struct Gateway {
    app: &'static App,
    routes: Vec<Route>,
    stats: crate::stats::Stats,
}

impl Gateway {
    /// The routes of `template.yaml`. Fails when the template names an HTTP function this
    /// gateway cannot call, so the two cannot drift apart silently.
    pub fn new(app: &'static App) -> Result<Self, String> {
        let mut routes = Vec::new();
        for f in functions(TEMPLATE) {
            let Some((method, path)) = f.route else { continue };
            let handler = http_handler(&f.binary).ok_or(format!("no in-process handler for {}", f.binary))?;
            let segments = path
                .trim_matches('/')
                .split('/')
                .map(|s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => (String::new(), Some(name.to_owned())),
                    None => (s.to_owned(), None),
                })
                .collect();
            routes.push(Route { method, segments, function: f.binary, handler });
        }
        // A trivial handler on the same path as every function (request conversion, extensions,
        // response conversion), and one that adds exactly one Redis GET: the baselines the
        // functions' request rates are compared with.
        routes.push(Route {
            method: "GET".into(),
            segments: vec![("__ping".into(), None)],
            function: "ping".into(),
            handler: |_, _| Box::pin(async { Ok(ticketing::http::json(200, &json!({ "ok": true }))) }),
        });
        routes.push(Route {
            method: "GET".into(),
            segments: vec![("__get".into(), None)],
            function: "one-get".into(),
            handler: |app, _| {
                Box::pin(async move {
                    app.store.probe().await?;
                    Ok(ticketing::http::json(200, &json!({ "ok": true })))
                })
            },
        });
        Ok(Gateway { app, routes, stats: Default::default() })
    }

    /// Serves HTTP on `listener` until the process ends.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let gateway = self.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let gateway = gateway.clone();
                    async move { Ok::<_, Infallible>(gateway.call(req, peer.ip()).await) }
                });
                let _ = http1::Builder::new().keep_alive(true).serve_connection(TokioIo::new(stream), service).await;
            });
        }
    }

    /// One request from `peer`, whose address the functions see as API Gateway's
    /// `requestContext.http.sourceIp` (so per-address limits count each client on its own, and
    /// a load test can come from many loopback addresses, 127.0.0.x).
    async fn call(&self, req: hyper::Request<Incoming>, peer: std::net::IpAddr) -> hyper::Response<Full<Bytes>> {
        let started = Instant::now();
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_owned();
        if path == "/openapi.json" && parts.method == hyper::Method::GET {
            return plain(200, "application/json", Bytes::from_static(OPENAPI.as_bytes()));
        }
        if path == "/__stats" {
            if parts.method == hyper::Method::DELETE {
                self.stats.reset();
            }
            return plain(200, "application/json", Bytes::from(self.stats.snapshot().to_string()));
        }
        // Split once: every route is tried against the same segments.
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let found = self.routes.iter().filter(|r| r.method == parts.method.as_str()).find_map(|r| Some((r, r.matches(&segments)?)));
        let Some((route, params)) = found else {
            let detail = format!("{} {path}", parts.method);
            let allowed: Vec<&str> = self.routes.iter().filter(|r| r.matches(&segments).is_some()).map(|r| r.method.as_str()).collect();
            if allowed.is_empty() {
                return problem(404, "NO_ROUTE", &detail);
            }
            let mut resp = problem(405, "METHOD_NOT_ALLOWED", &detail);
            resp.headers_mut().insert("allow", allowed.join(", ").parse().expect("method names are header-safe"));
            return resp;
        };
        // API Gateway's own limit: it answers 413 above 10 MB and never calls the function.
        let bytes = match Limited::new(body, API_GATEWAY_MAX_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<LengthLimitError>() => return problem(413, "BODY_TOO_LARGE", "the body is above 10 MiB"),
            Err(_) => return problem(400, "INVALID_BODY", "the body could not be read"),
        };
        let mut parts = parts;
        combine_repeated_headers(&mut parts.headers);
        let query: HashMap<String, String> = parts
            .uri
            .query()
            .map(|q| {
                q.split('&')
                    .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
                    .map(|(k, v)| (percent_decode(k), percent_decode(v)))
                    .collect()
            })
            .unwrap_or_default();
        let context = request_context(&parts.method, &path, &route.function, peer);
        let lambda_body = match String::from_utf8(bytes.to_vec()) {
            _ if bytes.is_empty() => Body::Empty,
            Ok(text) => Body::Text(text),
            Err(e) => Body::Binary(e.into_bytes()),
        };
        let request = hyper::Request::from_parts(parts, lambda_body)
            .with_path_parameters(params)
            .with_query_string_parameters(query)
            .with_request_context(context);
        let handler_started = Instant::now();
        let response = answer(self.app, (route.handler)(self.app, request)).await;
        let handler_time = handler_started.elapsed();
        let (parts, body) = response.into_parts();
        let bytes = match body {
            Body::Text(text) => Bytes::from(text),
            Body::Binary(bin) => Bytes::from(bin),
            _ => Bytes::new(),
        };
        let response = hyper::Response::from_parts(parts, Full::new(bytes));
        self.stats.record(&route.function, started.elapsed(), handler_time);
        response
    }
}

/// The API's contract (OpenAPI 3.1), served at `GET /openapi.json`. A test keeps it in step with
/// the template's routes and the error codes (`tests/deployment_files_agree.rs`).
pub const OPENAPI: &str = include_str!("../../docs/openapi.json");

/// What API Gateway answers itself, before any function: problem+json like the functions' own.
fn problem(status: u16, code: &str, detail: &str) -> hyper::Response<Full<Bytes>> {
    let title = hyper::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
    let body = json!({"type": "about:blank", "title": title, "status": status, "code": code, "detail": detail});
    plain(status, "application/problem+json", Bytes::from(body.to_string()))
}

/// The largest body API Gateway (HTTP API) passes to a function: 10 MB.
const API_GATEWAY_MAX_BODY: usize = 10 * 1024 * 1024;

/// API Gateway's payload format 2.0 hands a function one value per header name, repeated headers
/// "combined with commas". The functions then see, say, two `Idempotency-Key`s as one invalid key,
/// never the first one alone, locally as on AWS.
fn combine_repeated_headers(headers: &mut hyper::HeaderMap) {
    if headers.len() == headers.keys_len() {
        return; // one value per name: the usual request, nothing to scan
    }
    let repeated: Vec<hyper::header::HeaderName> =
        headers.keys().filter(|name| headers.get_all(*name).iter().nth(1).is_some()).cloned().collect();
    for name in repeated {
        let values: Vec<&[u8]> = headers.get_all(&name).iter().map(|v| v.as_bytes()).collect();
        let joined = values.join(&b","[..]);
        if let Ok(value) = hyper::header::HeaderValue::from_bytes(&joined) {
            headers.insert(name, value);
        }
    }
}

fn plain(status: u16, content_type: &str, body: Bytes) -> hyper::Response<Full<Bytes>> {
    hyper::Response::builder().status(status).header("content-type", content_type).body(Full::new(body)).expect("valid response")
}

fn request_context(method: &hyper::Method, path: &str, function: &str, peer: std::net::IpAddr) -> RequestContext {
    let mut http = ApiGatewayV2httpRequestContextHttpDescription::default();
    http.method = method.clone();
    http.path = Some(path.to_owned());
    http.protocol = Some("HTTP/1.1".into());
    http.source_ip = Some(peer.to_canonical().to_string());
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http = http;
    context.stage = Some("$default".into());
    context.route_key = Some(function.to_owned());
    context.request_id = Some(format!("{:032x}", rand_id()));
    context.time_epoch = ticketing::domain::now_ms() as i64;
    RequestContext::ApiGatewayV2(context)
}

fn rand_id() -> u128 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    ((ticketing::domain::now_ms() as u128) << 64) | NEXT.fetch_add(1, Ordering::Relaxed) as u128
}

fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Everything on one port: the HTTP routes and, beside them, the schedules and (when the app has
/// a Kafka producer) the Kafka event source. Returns the address it listens on.
pub async fn start(app: &'static App, addr: SocketAddr) -> Result<SocketAddr, String> {
    let gateway = Arc::new(Gateway::new(app)?);
    let listener = TcpListener::bind(addr).await.map_err(|e| format!("bind {addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(gateway.serve(listener));
    crate::runners::start(app).await?;
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_matches_its_literals_and_decodes_its_parameters() {
        let route = Route {
            method: "GET".into(),
            segments: vec![("concerts".into(), None), (String::new(), Some("concertId".into())), ("seats".into(), None)],
            function: "list-seats".into(),
            handler: |_, _| Box::pin(async { Ok(ticketing::http::json(200, &json!({}))) }),
        };
        let params = route.matches(&["concerts", "a%20b", "seats"]).unwrap();
        assert_eq!(params, HashMap::from([("concertId".to_owned(), "a b".to_owned())]));
        assert!(route.matches(&["concerts", "c1", "holds"]).is_none());
        assert!(route.matches(&["concerts", "", "seats"]).is_none(), "a parameter is never empty");
        assert!(route.matches(&["concerts", "c1"]).is_none());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("AVAILABLE"), "AVAILABLE");
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
