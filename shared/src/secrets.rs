//! Secrets read at cold start through the AWS Parameters and Secrets Lambda Extension (a layer
//! that serves Secrets Manager and SSM Parameter Store on `localhost`, caching them), so secrets
//! are not plain environment variables of the function and no AWS SDK is compiled in.
//!
//! - a Secrets Manager secret: `AUTH_SECRET_ID=ticketing/auth-secret` (a name or an ARN), read from
//!   `GET /secretsmanager/get?secretId=…` (`SecretString`);
//! - an SSM parameter: `AUTH_SECRET_ID=ssm:/ticketing/auth-secret`, read from
//!   `GET /systemsmanager/parameters/get?name=…&withDecryption=true` (`Parameter.Value`).
//!
//! Each request carries the `X-Aws-Parameters-Secrets-Token` header with the function's
//! `AWS_SESSION_TOKEN`, as the extension requires; its port is
//! `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` (default 2773).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads one secret (see the module docs for the id forms).
pub async fn read(id: &str) -> Result<String, String> {
    let port: u16 = std::env::var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(2773);
    let token = std::env::var("AWS_SESSION_TOKEN").map_err(|_| "AWS_SESSION_TOKEN is not set (not on Lambda?)".to_string())?;
    read_from(id, port, &token).await
}

/// [`read`] from an extension on `port`, with `token`.
pub async fn read_from(id: &str, port: u16, token: &str) -> Result<String, String> {
    let path = match id.strip_prefix("ssm:") {
        Some(name) => format!("/systemsmanager/parameters/get?name={}&withDecryption=true", encode(name)),
        None => format!("/secretsmanager/get?secretId={}", encode(id)),
    };
    let body = tokio::time::timeout(Duration::from_secs(5), get(port, &path, token))
        .await
        .map_err(|_| "the Parameters and Secrets extension did not answer in 5 s".to_string())??;
    let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("the extension answered {e}"))?;
    let value = if id.starts_with("ssm:") { json.pointer("/Parameter/Value") } else { json.get("SecretString") };
    value.and_then(|v| v.as_str()).map(str::to_owned).ok_or_else(|| "the answer has no value (a binary secret?)".into())
}

/// One HTTP/1.1 GET to the extension on loopback; the body of a 200.
async fn get(port: u16, path: &str, token: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .map_err(|e| format!("cannot reach the Parameters and Secrets extension on port {port} (is its layer attached?): {e}"))?;
    let request =
        format!("GET {path} HTTP/1.1\r\nhost: localhost:{port}\r\nx-aws-parameters-secrets-token: {token}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.map_err(|e| e.to_string())?;
    let raw = String::from_utf8(raw).map_err(|_| "the extension's answer is not UTF-8".to_string())?;
    let (head, body) = raw.split_once("\r\n\r\n").ok_or("the extension's answer has no body")?;
    let status = head.split(' ').nth(1).unwrap_or_default();
    if status != "200" {
        return Err(format!("the extension answered {status}: {}", body.trim()));
    }
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return dechunk(body);
    }
    Ok(body.to_owned())
}

/// A chunked body, joined.
fn dechunk(mut body: &str) -> Result<String, String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").ok_or("a chunk without its size")?;
        let size = usize::from_str_radix(size.trim(), 16).map_err(|_| "a chunk size that is not hex")?;
        if size == 0 {
            return Ok(out);
        }
        out.push_str(rest.get(..size).ok_or("a chunk shorter than its size")?);
        body = rest.get(size + 2..).unwrap_or_default();
    }
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A stand-in for the extension: answers each request by path, checking the token.
    async fn extension(answers: Vec<(&'static str, &'static str)>) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut buf = vec![0u8; 4096];
                let n = stream.read(&mut buf).await.unwrap();
                let request = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = request.split(' ').nth(1).unwrap_or_default().to_owned();
                let authorized = request.to_ascii_lowercase().contains("x-aws-parameters-secrets-token: session-token");
                let (status, body) = match answers.iter().find(|(p, _)| *p == path) {
                    Some((_, body)) if authorized => ("200 OK", body.to_string()),
                    Some(_) => ("401 Unauthorized", "missing token".to_string()),
                    None => ("400 Bad Request", "unknown secret".to_string()),
                };
                let reply = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n\r\n{body}", body.len());
                stream.write_all(reply.as_bytes()).await.unwrap();
            }
        });
        port
    }

    #[tokio::test]
    async fn reads_secrets_manager_and_ssm_through_the_extension() {
        let port = extension(vec![
            ("/secretsmanager/get?secretId=ticketing%2Fauth-secret", r#"{"Name":"ticketing/auth-secret","SecretString":"s3cret"}"#),
            ("/systemsmanager/parameters/get?name=%2Fticketing%2Fadmin&withDecryption=true", r#"{"Parameter":{"Value":"k3y"}}"#),
        ])
        .await;
        assert_eq!(read_from("ticketing/auth-secret", port, "session-token").await.unwrap(), "s3cret");
        assert_eq!(read_from("ssm:/ticketing/admin", port, "session-token").await.unwrap(), "k3y");
        let err = read_from("ticketing/auth-secret", port, "wrong").await.unwrap_err();
        assert!(err.contains("401"), "{err}");
        let err = read_from("unknown", port, "session-token").await.unwrap_err();
        assert!(err.contains("400"), "{err}");
    }

    #[test]
    fn chunked_answers_are_joined() {
        assert_eq!(dechunk("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n").unwrap(), "hello world");
    }
}
