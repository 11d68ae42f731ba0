//! What every store shares: the connection pool with the key layout, Lua scripts loaded once, the
//! one helper that runs a script, and the one decoder of script replies.
//!
//! Each Lua script is called through one struct implementing [`Script`]: the struct holds what
//! the script needs, and the trait gives its source, the names of its keys and arguments in the
//! order the Lua file binds them (a test reads each file's binding lines and compares), the keys
//! and arguments themselves, and its reply type. So a script's calling order sits next to its
//! decoder, and nowhere else.
//!
//! A script answers an array whose first element usually names the outcome (`{'OK', json}`,
//! `{'ERR', 'SEAT_TAKEN'}`, ...). Each reply type implements [`FromReply`] by reading the array
//! front to back with [`Reply`]'s typed getters; [`Redis::run`] then checks nothing was left over.
//! So a reply is decoded in exactly one place, and a script and its reply type that drift apart
//! fail with the script's name and answer.

use std::time::Duration;

use fred::prelude::*;
use serde::de::DeserializeOwned;

use super::{ConnectError, Keys, StoreError, StoreResult};

/// A Lua script compiled into the binary from `shared/lua/`, with its name for errors and logs,
/// hashed once per process.
pub struct LuaScript {
    pub(crate) name: &'static str,
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) source: &'static str,
    script: fred::types::scripts::Script,
}

impl LuaScript {
    pub(crate) fn new(name: &'static str, source: &'static str) -> Self {
        LuaScript { name, source, script: fred::types::scripts::Script::from_lua(source) }
    }
}

/// One Lua script as Rust calls it. The struct implementing it carries the script's inputs; the
/// trait says which file it is, which keys and arguments it takes, in which order, and what it
/// answers. [`Redis::run`] is the only caller.
pub(crate) trait Script {
    /// The script's typed answer.
    type Reply: FromReply;
    /// The names `shared/lua/<name>.lua` binds `KEYS[1..]` to, in order.
    const KEYS: &'static [&'static str];
    /// The names it binds `ARGV[1..]` to, in order.
    const ARGS: &'static [&'static str];
    /// The script itself (see [`lua_source`]).
    fn lua() -> &'static LuaScript;
    /// The keys, in [`Script::KEYS`]' order.
    fn keys(&self, keys: &Keys) -> Vec<String>;
    /// The arguments, in [`Script::ARGS`]' order.
    fn args(&self) -> Vec<String>;
}

/// The body of [`Script::lua`] for `shared/lua/<name>.lua`: the file compiled in, hashed on first
/// use.
macro_rules! lua_source {
    ($name:literal) => {
        fn lua() -> &'static $crate::store::script::LuaScript {
            static SCRIPT: std::sync::LazyLock<$crate::store::script::LuaScript> = std::sync::LazyLock::new(|| {
                $crate::store::script::LuaScript::new($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/lua/", $name, ".lua")))
            });
            &SCRIPT
        }
    };
}
pub(crate) use lua_source;

/// A script's answer, read front to back. The whole answer is kept (the elements are cheap to
/// clone: strings share their bytes), so a decoding failure can show it without every reply
/// paying to format itself in advance.
pub struct Reply {
    script: &'static str,
    items: Vec<Value>,
    read: usize,
}

impl Reply {
    fn new(script: &'static str, value: Value) -> Self {
        let items = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        Reply { script, items, read: 0 }
    }

    /// A decoding failure that names the script and shows its whole answer.
    pub fn unexpected(&self) -> StoreError {
        StoreError::Unexpected(format!("{} answered {:?}", self.script, Value::Array(self.items.clone())))
    }

    /// `value` as `script`'s typed answer, all of it read.
    fn decode<R: FromReply>(script: &'static str, value: Value) -> StoreResult<R> {
        let mut reply = Reply::new(script, value);
        let decoded = R::from_reply(&mut reply)?;
        if reply.has_more() {
            return Err(reply.unexpected());
        }
        Ok(decoded)
    }

    fn take(&mut self) -> Option<Value> {
        let value = self.items.get(self.read).cloned();
        self.read += value.is_some() as usize;
        value
    }

    fn next(&mut self) -> StoreResult<Value> {
        self.take().ok_or_else(|| self.unexpected())
    }

    pub fn text(&mut self) -> StoreResult<String> {
        let value = self.next()?;
        value.as_string().ok_or_else(|| self.unexpected())
    }

    pub fn number(&mut self) -> StoreResult<u64> {
        let value = self.next()?;
        value.as_u64().ok_or_else(|| self.unexpected())
    }

    pub fn json<T: DeserializeOwned>(&mut self) -> StoreResult<T> {
        let raw = self.text()?;
        from_json(&raw)
    }

    /// The next element as text, without reading it: for answers whose first word says which
    /// shape follows.
    pub fn peek_text(&self) -> Option<String> {
        self.items.get(self.read).and_then(|v| if v.is_string() { v.as_string() } else { None })
    }

    /// The next element, if the script sent one (optional trailing fields).
    pub fn maybe_text(&mut self) -> Option<String> {
        self.take().and_then(|v| v.as_string())
    }

    pub fn has_more(&self) -> bool {
        self.read < self.items.len()
    }
}

/// The typed reply of one script.
pub trait FromReply: Sized {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self>;
}

impl FromReply for bool {
    /// `1` or `0`.
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        match reply.number()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(reply.unexpected()),
        }
    }
}

/// Parses JSON a script stored or returned.
pub(crate) fn from_json<T: DeserializeOwned>(raw: &str) -> StoreResult<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Unexpected(format!("stored JSON: {e}: {raw}")))
}

/// A number stored as text.
pub(crate) fn parse_u64(raw: &str) -> StoreResult<u64> {
    raw.parse().map_err(|_| StoreError::Unexpected(format!("expected a number, got {raw:?}")))
}

/// An id stored as a hash field or value.
pub(crate) fn parse_id<T: TryFrom<String>>(raw: &str) -> StoreResult<T> {
    T::try_from(raw.to_owned()).map_err(|_| StoreError::Unexpected(format!("stored id {raw:?}")))
}

/// `rediss://`, `rediss-cluster://`, `rediss-sentinel://` (and the `valkeys` spellings).
fn wants_tls(url: &str) -> bool {
    let scheme = url.split("://").next().unwrap_or_default().to_ascii_lowercase();
    scheme.starts_with("rediss") || scheme.starts_with("valkeys")
}

/// The TLS client: the system's root certificates (what managed Redis services present), plus
/// the certificates of `REDIS_CA_FILE` for a Redis with a private certificate authority.
fn tls(ca_file: Option<&str>) -> Result<fred::types::config::TlsConnector, ConnectError> {
    use fred::rustls::pki_types::{pem::PemObject, CertificateDer};
    use fred::rustls::{ClientConfig, RootCertStore};
    let bad = ConnectError::Tls;
    let mut roots = RootCertStore::empty();
    for cert in fred::rustls_native_certs::load_native_certs().certs {
        // A system bundle may hold a certificate rustls cannot use; the others still count.
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(format!("REDIS_CA_FILE {path}: {e}")))?;
        for cert in certs {
            roots
                .add(cert.map_err(|e| bad(format!("REDIS_CA_FILE {path}: {e}")))?)
                .map_err(|e| bad(format!("REDIS_CA_FILE {path}: {e}")))?;
        }
    }
    if roots.is_empty() {
        return Err(bad("no root certificates: the system has none and REDIS_CA_FILE is not set".into()));
    }
    let provider = std::sync::Arc::new(fred::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(config.into())
}

/// The pool and key layout every store holds a clone of (the pool is reference-counted).
#[derive(Clone)]
pub struct Redis {
    pool: Pool,
    pub(crate) keys: Keys,
}

impl Redis {
    pub(crate) async fn connect(url: &str, ca_file: Option<&str>, pool_size: usize, keys: Keys) -> Result<Self, ConnectError> {
        let mut config = fred::types::config::Config::from_url(url).map_err(ConnectError::Url)?;
        if wants_tls(url) {
            config.tls = Some(tls(ca_file)?.into());
        }
        // A `rediss` URL must never fall back to plain text: refuse to start instead.
        if wants_tls(url) != config.uses_tls() {
            return Err(ConnectError::TlsNotUsed(url.to_owned()));
        }
        let pool = Builder::from_config(config)
            .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(2))
            .with_connection_config(|c| {
                c.connection_timeout = Duration::from_secs(2);
                // Answers after which this connection is the wrong one: a server still loading its
                // data after a restart, a primary demoted by a failover with the connection kept.
                // The client reconnects (through Sentinel or DNS to the new primary).
                use fred::types::config::ReconnectError::*;
                c.reconnect_errors = vec![Loading, ReadOnly, MasterDown, ClusterDown];
            })
            .set_policy(ReconnectPolicy::new_exponential(0, 50, 2_000, 2))
            .build_pool(pool_size)
            .map_err(ConnectError::Url)?;
        pool.init().await.map_err(|e| ConnectError::Unreachable(e.into()))?;
        Ok(Redis { pool, keys })
    }

    /// One connection of the pool, round robin.
    pub(crate) fn client(&self) -> &Client {
        self.pool.next()
    }

    pub(crate) async fn load(&self, script: &LuaScript) -> StoreResult<()> {
        script.script.load(self.client()).await?;
        Ok(())
    }

    /// Runs `script` (`EVALSHA`, loading it again if Redis lost it) and decodes its reply.
    pub(crate) async fn run<S: Script>(&self, script: &S) -> StoreResult<S::Reply> {
        let (keys, args) = (script.keys(&self.keys), script.args());
        if (keys.len(), args.len()) != (S::KEYS.len(), S::ARGS.len()) {
            return Err(StoreError::Unexpected(format!(
                "{} was sent {} keys and {} arguments, but binds {} and {}",
                S::lua().name,
                keys.len(),
                args.len(),
                S::KEYS.len(),
                S::ARGS.len()
            )));
        }
        let value: Value = S::lua().script.evalsha_with_reload(self.client(), keys, args).await?;
        Reply::decode(S::lua().name, value)
    }
}

/// The names a Lua file binds `table` (`KEYS` or `ARGV`) to: the `local a, b, c =` line before
/// the line `  KEYS[1], KEYS[2], KEYS[3]`.
#[cfg(test)]
pub(crate) fn bound_names(source: &str, table: &str) -> Vec<String> {
    let lines: Vec<&str> = source.lines().collect();
    let first = format!("{table}[1]");
    let at = lines.iter().position(|l| l.trim_start().starts_with(&first)).unwrap_or_else(|| panic!("no {table} binding"));
    let names = lines[at - 1].trim().strip_prefix("local ").and_then(|l| l.strip_suffix(" =")).expect("local ... =");
    names.split(", ").map(str::to_owned).collect()
}

/// `value` decoded as `R`, as [`Redis::run`] decodes a script's answer.
#[cfg(test)]
pub(crate) fn decode_for_tests<R: FromReply>(value: Value) -> StoreResult<R> {
    Reply::decode("test", value)
}

/// Fails unless `S`'s key and argument names are the ones its Lua file binds, in the same order.
#[cfg(test)]
pub(crate) fn assert_binds<S: Script>() {
    let lua = S::lua();
    assert_eq!(bound_names(lua.source, "KEYS"), S::KEYS, "{}.lua's KEYS", lua.name);
    assert_eq!(bound_names(lua.source, "ARGV"), S::ARGS, "{}.lua's ARGV", lua.name);
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pair(String, u64);

    impl FromReply for Pair {
        fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
            Ok(Pair(reply.text()?, reply.number()?))
        }
    }

    fn decode(value: Value) -> StoreResult<Pair> {
        Reply::decode("pair", value)
    }

    #[test]
    fn a_reply_is_read_front_to_back_and_a_wrong_one_is_shown_whole() {
        let ok = decode(Value::Array(vec!["OK".into(), 7.into()])).unwrap();
        assert_eq!((ok.0.as_str(), ok.1), ("OK", 7));
        for wrong in [
            Value::Array(vec!["OK".into()]),
            Value::Array(vec!["OK".into(), "seven".into()]),
            Value::Array(vec!["OK".into(), 7.into(), "extra".into()]),
        ] {
            let shown = format!("{:?}", wrong);
            let Err(StoreError::Unexpected(message)) = decode(wrong) else { panic!("decoded a wrong reply") };
            assert_eq!(message, format!("pair answered {shown}"));
        }
    }
}
