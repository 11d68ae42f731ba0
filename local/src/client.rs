//! The smallest HTTP/1.1 client that sends a request from a chosen loopback address: one request
//! per connection, `connection: close`. The gateway gives each request its TCP peer's address as
//! API Gateway does, so a test or a bot can be many clients from one machine (`tests/gateway_flow.rs`,
//! `bin/bots.rs`).

use std::net::{IpAddr, SocketAddr};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

/// What came back: the status, the JSON body (`Null` when none or not JSON) and the head, lower case.
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub head: String,
}

/// `method path` with `headers` and a JSON `body`, sent from `from` (any address of 127.0.0.0/8)
/// to `to`.
pub async fn call_from(
    from: IpAddr,
    to: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> std::io::Result<Answer> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    let mut stream = socket.connect(to).await?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {to}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let raw = String::from_utf8_lossy(&raw);
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(Answer { status, body: serde_json::from_str(body).unwrap_or(Value::Null), head: head.to_ascii_lowercase() })
}
