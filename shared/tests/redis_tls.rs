//! TLS to Redis: a `redis-server` of the test's own with `--tls-port` and a certificate authority
//! made at test time (openssl), so `rediss://` is known to encrypt, to check the server's
//! certificate, and never to fall back to plain text.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ticketing::domain::ids::UserId;
use ticketing::domain::inputs::UserName;
use ticketing::domain::now_ms;
use ticketing::testing::{redis_url, TestApp};
use ticketing::{App, Config};

struct TlsRedis {
    port: u16,
    dir: PathBuf,
    child: Child,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A certificate authority, a server certificate for 127.0.0.1 signed by it, and a Redis that
/// speaks only TLS with them.
fn tls_redis() -> TlsRedis {
    let dir = std::env::temp_dir().join(format!("redis-tls-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    openssl(
        &dir,
        &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=test CA"],
    );
    openssl(&dir, &["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]);
    std::fs::write(dir.join("ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n").unwrap();
    openssl(
        &dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "1",
            "-extfile",
            "ext",
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new("redis-server")
        .args(["--port", "0", "--tls-port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(["--tls-cert-file", "server.pem", "--tls-key-file", "server.key", "--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server runs");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "the TLS Redis did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    TlsRedis { port, dir, child }
}

fn config(url: &str, ca_file: Option<&Path>) -> Config {
    let mut config = Config::from_lookup(|name| match name {
        "AUTH_SECRET" => Some("test-secret-test-secret-test-secret!".into()),
        "REDIS_URL" => Some(url.into()),
        "KEY_PREFIX" => Some(format!("tls-{:x}", rand::random::<u32>())),
        _ => None,
    })
    .unwrap();
    config.redis.ca_file = ca_file.map(|p| p.to_string_lossy().into_owned());
    config
}

#[tokio::test]
async fn rediss_encrypts_and_checks_the_servers_certificate() {
    let redis = tls_redis();
    let url = format!("rediss://127.0.0.1:{}", redis.port);
    let ca = redis.dir.join("ca.pem");
    let app = TestApp::spawn_with(|c| {
        c.redis.url = url.clone();
        c.redis.ca_file = Some(ca.to_string_lossy().into_owned());
    })
    .await;
    let user = UserId::random();
    app.store.users.create(&user, &UserName::parse("Kim").unwrap(), now_ms()).await.unwrap();
    assert_eq!(app.store.users.balance(&user).await.unwrap(), 0, "a round trip over TLS");

    // Without the test's certificate authority the server's certificate is not trusted.
    let err = App::new(config(&url, None)).await.err().expect("an untrusted certificate fails the start");
    println!("untrusted: {err}");
    // Plain text to the TLS port does not work either.
    assert!(App::new(config(&format!("redis://127.0.0.1:{}", redis.port), None)).await.is_err());
}

#[tokio::test]
async fn rediss_to_a_plain_text_redis_refuses_to_start() {
    // The shared test Redis (a single node or a cluster) speaks plain text only: asking for TLS
    // must fail, not fall back.
    let plain = redis_url().replacen("redis-cluster://", "rediss-cluster://", 1).replacen("redis://", "rediss://", 1);
    assert!(plain.starts_with("rediss"), "{plain}");
    let err = App::new(config(&plain, None)).await.err().expect("no silent fall-back to plain text");
    println!("plain text server: {err}");
}
