//! Hostile and malformed requests through the gateway, over real HTTP: each gets a clear 4xx
//! problem+json with its own code, and none changes anything. The table in docs/reliability.md
//! ("Hostile input") lists the same cases.

use serde_json::{json, Value};
use ticketing::testing::TestApp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `head` (request line and headers, without the blank line) and `body` as they are; returns
/// the status, the body as JSON and the lower-cased head of the answer.
async fn raw(addr: &str, head: &str, body: &[u8]) -> (u16, Value, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("{head}\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n", body.len());
    stream.write_all(request.as_bytes()).await.unwrap();
    // The gateway may answer (413) before it has read a large body, and close.
    let _ = stream.write_all(body).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head.split(' ').nth(1).unwrap_or("0").parse().unwrap();
    (status, serde_json::from_str(body).unwrap_or(Value::Null), head.to_ascii_lowercase())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_get_their_own_4xx_and_change_nothing() {
    let app = TestApp::spawn().await;
    let app: &'static TestApp = Box::leak(Box::new(app));
    let addr = local_stack::gateway::start(&app.app, "127.0.0.1:0".parse().unwrap()).await.unwrap().to_string();
    let json_type = "content-type: application/json";

    let (status, user, _) = raw(&addr, &format!("POST /users HTTP/1.1\r\n{json_type}"), br#"{"name":"Kim"}"#).await;
    assert_eq!(status, 201, "{user}");
    let token = user["accessToken"].as_str().unwrap().to_owned();
    let auth = format!("authorization: Bearer {token}");
    let charge = |extra: &str| format!("POST /users/me/balance HTTP/1.1\r\n{auth}\r\n{json_type}{extra}");
    let (status, _, _) = raw(&addr, &charge("\r\nidempotency-key: first"), br#"{"amount":1000}"#).await;
    assert_eq!(status, 200);

    let deep = format!("{{\"amount\":{}1{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let padded = format!("{{\"amount\":5,\"pad\":\"{}\"}}", "x".repeat(40 * 1024));
    let huge = vec![b' '; 11 * 1024 * 1024];
    let long_name = format!("{{\"name\":\"{}\"}}", "a".repeat(10_000));
    let other_token = "authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.x";
    let cases: Vec<(&str, String, Vec<u8>, u16, &str)> = vec![
        ("body above 10 MiB (API Gateway's limit)", charge(""), huge, 413, "BODY_TOO_LARGE"),
        ("body above 32 KiB", charge(""), padded.into_bytes(), 413, "BODY_TOO_LARGE"),
        (
            "form body",
            charge("").replace(json_type, "content-type: application/x-www-form-urlencoded"),
            b"amount=5".to_vec(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            "text body",
            charge("").replace(json_type, "content-type: text/plain"),
            br#"{"amount":5}"#.to_vec(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ("JSON nested 10,000 deep", charge(""), deep.into_bytes(), 400, "INVALID_BODY"),
        ("number above 2^64", charge(""), br#"{"amount":184467440737095516160000}"#.to_vec(), 400, "INVALID_BODY"),
        ("number 1e400", charge(""), br#"{"amount":1e400}"#.to_vec(), 400, "INVALID_BODY"),
        ("amount above the limit", charge(""), br#"{"amount":10000001}"#.to_vec(), 422, "INVALID_AMOUNT"),
        ("negative amount", charge(""), br#"{"amount":-5}"#.to_vec(), 422, "INVALID_AMOUNT"),
        ("a field twice", charge(""), br#"{"amount":5,"amount":6}"#.to_vec(), 400, "INVALID_BODY"),
        ("invalid UTF-8", charge(""), b"{\"amount\":5,\"note\":\"\xc3\x28\"}".to_vec(), 400, "INVALID_BODY"),
        ("not JSON", charge(""), b"amount=5".to_vec(), 400, "INVALID_BODY"),
        ("no body", charge(""), Vec::new(), 400, "INVALID_BODY"),
        (
            "two Idempotency-Keys",
            charge("\r\nidempotency-key: a\r\nidempotency-key: b"),
            br#"{"amount":5}"#.to_vec(),
            400,
            "INVALID_IDEMPOTENCY_KEY",
        ),
        (
            "Idempotency-Key of 65 characters",
            charge(&format!("\r\nidempotency-key: {}", "k".repeat(65))),
            br#"{"amount":5}"#.to_vec(),
            400,
            "INVALID_IDEMPOTENCY_KEY",
        ),
        ("two Authorization headers", format!("{}\r\n{other_token}", charge("")), br#"{"amount":5}"#.to_vec(), 401, "INVALID_TOKEN"),
        ("forged token", charge("").replace(&auth, other_token), br#"{"amount":5}"#.to_vec(), 401, "INVALID_TOKEN"),
        ("name of 10,000 characters", format!("POST /users HTTP/1.1\r\n{json_type}"), long_name.into_bytes(), 422, "INVALID_NAME"),
        ("name with a NUL", format!("POST /users HTTP/1.1\r\n{json_type}"), br#"{"name":"a\u0000b"}"#.to_vec(), 422, "INVALID_NAME"),
        ("name of the wrong type", format!("POST /users HTTP/1.1\r\n{json_type}"), br#"{"name":["Kim"]}"#.to_vec(), 400, "INVALID_BODY"),
        ("id of 300 characters", format!("GET /concerts/{} HTTP/1.1", "a".repeat(300)), Vec::new(), 422, "INVALID_ID"),
        ("id with an encoded slash", "GET /concerts/..%2F..%2Fetc HTTP/1.1".into(), Vec::new(), 422, "INVALID_ID"),
        ("unknown route", "GET /concerts/a/b HTTP/1.1".into(), Vec::new(), 404, "NO_ROUTE"),
        ("wrong method", "PUT /users/me/balance HTTP/1.1".into(), Vec::new(), 405, "METHOD_NOT_ALLOWED"),
    ];
    for (what, head, body, want_status, want_code) in cases {
        let (status, problem, answer_head) = raw(&addr, &head, &body).await;
        println!("| {what} | {status} {} |", problem["code"].as_str().unwrap_or("?"));
        assert_eq!((status, problem["code"].as_str().unwrap_or("")), (want_status, want_code), "{what}: {problem}");
        assert!(answer_head.contains("content-type: application/problem+json"), "{what}: {answer_head}");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()), "{what}: {problem}");
    }
    let (_, allow, head) = raw(&addr, "PUT /users/me/balance HTTP/1.1", b"").await;
    assert!(head.contains("allow: get, post"), "{head} {allow}");

    // Nothing the refused requests carried was applied.
    let (status, balance, _) = raw(&addr, &format!("GET /users/me/balance HTTP/1.1\r\n{auth}"), b"").await;
    assert_eq!((status, &balance["balance"]), (200, &json!(1000)));
}
