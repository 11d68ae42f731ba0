//! Every function's real binary on a Lambda Runtime API with nothing else
//! ([`local_stack::runtime_api`]), as on a Lambda-compatible platform without the Extensions API:
//!
//! - each of the functions under `functions/` answers its event of `local/events/` with what
//!   `local/events/README.md` says (and `local/invoke-fixtures` checks), without a panic, and asks
//!   for the next event; `pay` and `outbox-relay` warn that there is no Extensions API;
//! - a function that cannot start (a bad setting, an unreachable Redis, bad Kafka settings) reports
//!   it to `/runtime/init/error` with its error type and exits non-zero;
//! - where the Extensions API exists, `pay` registers its no-op extension and, on SIGTERM, flushes
//!   its Kafka producer and exits 0.
//!
//! The functions run with the environment Lambda sets and the settings of `local/dev.env`, on a
//! fresh `KEY_PREFIX` the `seed` fills with the fixture user and concert, and a Tansu broker of
//! their own. `cargo test` builds the binaries of the package under test only, so the functions'
//! binaries (debug) are built here first, once per run: `cargo build --bins -p <each function>`
//! into this test's own target directory.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use local_stack::runtime_api::{Outcome, RuntimeApi};
use serde_json::Value;
use ticketing::testing::TansuBroker;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The functions: the packages under `functions/`, each with a binary of its name.
fn functions() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The directory of the functions' binaries, built once per run into the target directory and
/// profile this test was built with.
fn binaries() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // This test runs as <target>/<profile>/deps/runtime_api_only-<hash>.
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().and_then(Path::parent).expect("the test runs from <target>/<profile>/deps").to_path_buf();
        let target_dir = profile_dir.parent().unwrap();
        let profile = match profile_dir.file_name().unwrap().to_str().unwrap() {
            "debug" => "dev".to_owned(),
            other => other.to_owned(),
        };
        let mut build = Command::new(env!("CARGO"));
        build.current_dir(root()).args(["build", "--quiet", "--bins", "--profile", &profile]).arg("--target-dir").arg(target_dir);
        // Without the variables cargo sets for this test (some build scripts rebuild when, say,
        // CARGO_MANIFEST_DIR changes), so a `cargo build` run by hand finds the same build fresh.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            let set_for_tests =
                ["CARGO_MANIFEST_DIR", "CARGO_MANIFEST_PATH", "CARGO_CRATE_NAME", "CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR"]
                    .contains(&name.as_ref())
                    || name.starts_with("CARGO_PKG_")
                    || name.starts_with("CARGO_BIN_EXE_");
            if set_for_tests {
                build.env_remove(name.as_ref());
            }
        }
        for function in functions() {
            build.args(["-p", &function]);
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building the functions' binaries failed");
        profile_dir
    })
}

/// `local/dev.env`, as the local scripts read it.
fn dev_env() -> Vec<(String, String)> {
    std::fs::read_to_string(root().join("local/dev.env"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

/// The functions' settings: `local/dev.env` on the tests' Redis, under a fresh key prefix, with
/// the given broker, and `changes` on top.
#[derive(Clone)]
struct Settings(Vec<(String, String)>);

impl Settings {
    fn new(kafka_brokers: &str) -> Settings {
        let mut settings = Settings(dev_env());
        settings.set("REDIS_URL", &ticketing::testing::redis_url());
        settings.set("KEY_PREFIX", &format!("test-rapi-{:016x}", rand::random::<u64>()));
        settings.set("KAFKA_BROKERS", kafka_brokers);
        settings
    }

    fn set(&mut self, key: &str, value: &str) {
        self.0.retain(|(k, _)| k != key);
        self.0.push((key.to_owned(), value.to_owned()));
    }

    fn with(&self, key: &str, value: &str) -> Settings {
        let mut changed = self.clone();
        changed.set(key, value);
        changed
    }

    /// Runs the seed for this key prefix: the fixture user (its queue ticket ACTIVE again) and
    /// concert, and a small demo concert.
    fn seed(&self) {
        let output = Command::new(env!("CARGO_BIN_EXE_seed"))
            .args(["--concerts", "1", "--schedules", "1", "--seats", "10"])
            .env_clear()
            .envs(self.0.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        assert!(output.status.success(), "seed failed: {}", String::from_utf8_lossy(&output.stderr));
    }
}

/// A function's process, its output (stdout and stderr) collected as it comes.
struct Process {
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
}

impl Process {
    /// Starts `function`'s binary as Lambda would: the environment Lambda sets (and nothing of
    /// this test's), the function's settings, and `api` as its Runtime API.
    fn start(function: &str, api: &RuntimeApi, settings: &Settings) -> Process {
        let lambda = [
            ("AWS_LAMBDA_RUNTIME_API", api.address()),
            ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef".to_owned()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function}")),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
            ("_HANDLER", "bootstrap".to_owned()),
            ("TZ", ":UTC".to_owned()),
            ("LANG", "en_US.UTF-8".to_owned()),
            ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
        ];
        let mut child = Command::new(binaries().join(function))
            .env_clear()
            .envs(lambda)
            .envs(settings.0.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {function}: {e}"));
        let output = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        let streams: [Box<dyn Read + Send>; 2] = [Box::new(child.stdout.take().unwrap()), Box::new(child.stderr.take().unwrap())];
        for mut stream in streams {
            let output = output.clone();
            readers.push(std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n) = stream.read(&mut chunk) {
                    if n == 0 {
                        break;
                    }
                    output.lock().unwrap().push_str(&String::from_utf8_lossy(&chunk[..n]));
                }
            }));
        }
        Process { child, output, readers }
    }

    fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(status) = self.exited() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Stops the process (if it still runs) and returns all it printed.
    fn finish(mut self) -> String {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        let output = self.output.lock().unwrap().clone();
        assert!(!output.contains("panicked"), "the function panicked:\n{output}");
        output
    }
}

/// Waits until `api` has served a request matching `wanted`.
fn wait_for_request(api: &RuntimeApi, process: &mut Process, wanted: impl Fn(&[String]) -> bool, what: &str) {
    let started = Instant::now();
    while !wanted(&api.requests()) {
        if let Some(status) = process.exited() {
            panic!("the function exited ({status}) before {what}: {:?}\n{}", api.requests(), process.output.lock().unwrap());
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no {what} within 30 s: {:?}\n{}",
            api.requests(),
            process.output.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn polls(requests: &[String]) -> usize {
    requests.iter().filter(|r| r.starts_with("GET /2018-06-01/runtime/invocation/next")).count()
}

/// What one function answered to `event`, and what it logged: started on a Runtime API of its own,
/// handed the event, and stopped once it answered and asked for the next one.
fn invoke(function: &str, event: &[u8], settings: &Settings) -> (Value, String) {
    let api = RuntimeApi::start(function);
    let mut process = Process::start(function, &api, settings);
    let request_id = api.invoke(event.to_vec());
    let started = Instant::now();
    let outcome = loop {
        if let Some(outcome) = api.outcome(Duration::from_millis(100)) {
            break outcome;
        }
        if let Some(status) = process.exited() {
            let output = process.finish();
            panic!("{function} exited ({status}) without answering: {:?}\n{output}", api.requests());
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{function} did not answer within 60 s:\n{}", process.finish());
    };
    wait_for_request(&api, &mut process, |requests| polls(requests) >= 2, "the poll for the next event");
    let requests = api.requests();
    let output = process.finish();
    let Outcome::Response { request_id: answered, .. } = &outcome else { panic!("{function} did not answer: {outcome:?}\n{output}") };
    assert_eq!(answered, &request_id, "{function} answered another request");
    if requests.iter().any(|r| r.starts_with("POST /2020-01-01/extension/register")) {
        assert!(output.contains("no Lambda Extensions API here"), "{function} gave no warning:\n{output}");
    }
    (outcome.json(), output)
}

fn fixture(function: &str) -> Vec<u8> {
    std::fs::read(root().join("local/events").join(format!("{function}.json"))).unwrap()
}

/// An API Gateway answer's status and JSON body.
fn http_answer(answer: &Value) -> (u64, Value) {
    let status = answer["statusCode"].as_u64().unwrap_or_else(|| panic!("not an API Gateway answer: {answer}"));
    let body = answer["body"].as_str().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    (status, body)
}

/// Invokes an HTTP function with its fixture (or `event`) and checks the status.
fn expect_status(function: &str, event: Option<Vec<u8>>, want: u64, settings: &Settings, answered: &mut BTreeSet<String>) -> Value {
    let (answer, output) = invoke(function, &event.unwrap_or_else(|| fixture(function)), settings);
    let (status, body) = http_answer(&answer);
    assert_eq!(status, want, "{function} answered {answer}\n{output}");
    answered.insert(function.to_owned());
    body
}

/// Invokes an event function with its fixture and returns its answer.
fn expect_answer(function: &str, settings: &Settings, answered: &mut BTreeSet<String>) -> Value {
    let (answer, _) = invoke(function, &fixture(function), settings);
    answered.insert(function.to_owned());
    answer
}

/// A Tansu broker of the test's own, with the payments topic of `local/dev.env`.
fn broker() -> TansuBroker {
    let broker = TansuBroker::start();
    let topic = dev_env().into_iter().find(|(k, _)| k == "PAYMENTS_TOPIC").map(|(_, v)| v).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(local_stack::kafka_trigger::ensure_topic(&broker.address(), &topic, 3)).unwrap();
    broker
}

/// The statuses of `local/events/README.md`, in the order `local/invoke-fixtures` checks them.
#[test]
fn every_function_answers_its_fixture_on_a_runtime_api_alone() {
    binaries();
    let broker = broker();
    let settings = Settings::new(&broker.address());
    settings.seed();
    let mut answered = BTreeSet::new();
    let ok = [
        "fan-page",
        "operator-page",
        "get-balance",
        "charge-balance",
        "issue-token",
        "get-challenge",
        "token-status",
        "list-concerts",
        "get-concert",
        "room-state",
        "get-lottery",
        "list-seats",
        "my-reservations",
        "sales-report",
        "room-status",
        "room-report",
        "update-room",
        "add-codes",
    ];
    for function in ok {
        expect_status(function, None, 200, &settings, &mut answered);
    }
    expect_status("signup", None, 201, &settings, &mut answered);
    expect_status("create-concert", None, 201, &settings, &mut answered);
    // pay's event names a placeholder reservation; then the seat hold-seat takes is paid.
    let body = expect_status("pay", None, 404, &settings, &mut answered);
    assert_eq!(body["code"], "RESERVATION_NOT_FOUND", "{body}");
    let held = expect_status("hold-seat", None, 201, &settings, &mut answered);
    let reservation = held["reservationId"].as_str().unwrap_or_else(|| panic!("no reservation: {held}"));
    let event = String::from_utf8(fixture("pay")).unwrap().replace("ffffffffffffffffffffffffffffffff", reservation);
    let paid = expect_status("pay", Some(event.into_bytes()), 201, &settings, &mut answered);
    assert_eq!(paid["reservationId"], reservation, "{paid}");
    settings.seed(); // the payment ended the fixture ticket
    for function in ["activate-queue", "expire-holds", "outbox-relay"] {
        let answer = expect_answer(function, &settings, &mut answered);
        assert_eq!(answer["ticks"], 1, "{function} answered {answer}");
    }
    let answer = expect_answer("on-payment-completed", &settings, &mut answered);
    assert_eq!(answer, serde_json::json!({ "batchItemFailures": [] }));
    let left = expect_status("leave-queue", None, 200, &settings, &mut answered);
    assert_eq!(left["was"], "ACTIVE", "{left}");

    let all: BTreeSet<String> = functions().into_iter().collect();
    assert_eq!(answered, all, "every function is invoked");
    for function in &all {
        assert!(root().join("local/events").join(format!("{function}.json")).is_file(), "no event for {function}");
    }
}

/// Starts `function` with `settings` and returns what it reported, its exit status and its output.
fn failed_start(function: &str, settings: &Settings) -> (Outcome, ExitStatus, String) {
    let api = RuntimeApi::start(function);
    let mut process = Process::start(function, &api, settings);
    let status = process.wait_exit(Duration::from_secs(30));
    let output = process.finish();
    let status = status.unwrap_or_else(|| panic!("{function} kept running:\n{output}"));
    let outcome = api.outcome(Duration::ZERO).unwrap_or_else(|| panic!("{function} reported nothing: {:?}\n{output}", api.requests()));
    assert_eq!(polls(&api.requests()), 0, "{function} asked for an event: {:?}", api.requests());
    (outcome, status, output)
}

#[test]
fn a_function_that_cannot_start_reports_it_to_init_error_and_exits_non_zero() {
    binaries();
    // Nothing here reaches Kafka: the producer is built without connecting.
    let settings = Settings::new("127.0.0.1:9");
    let cases = [
        ("get-balance", settings.with("AUTH_SECRET", "too-short"), "Startup.Config", "AUTH_SECRET"),
        ("list-concerts", settings.with("ACTIVE_CAP", "many"), "Startup.Config", "ACTIVE_CAP"),
        ("get-balance", settings.with("REDIS_URL", "nonsense"), "Startup.Config", "REDIS_URL"),
        ("get-balance", settings.with("KEY_PREFIX", "a{b}"), "Startup.Config", "KEY_PREFIX"),
        ("activate-queue", settings.with("REDIS_URL", "redis://127.0.0.1:9"), "Startup.Store", ""),
        ("pay", settings.with("KAFKA_SECURITY_PROTOCOL", "nonsense"), "Startup.Kafka", "security.protocol"),
    ];
    for (function, settings, error_type, mentions) in cases {
        let (outcome, status, output) = failed_start(function, &settings);
        assert!(!status.success(), "{function} exited {status}");
        let Outcome::InitError { error_type: header, .. } = &outcome else { panic!("{function}: {outcome:?}") };
        assert_eq!(header.as_deref(), Some(error_type), "{function}: {outcome:?}\n{output}");
        let body = outcome.json();
        assert_eq!(body["errorType"], error_type, "{body}");
        let message = body["errorMessage"].as_str().unwrap_or_default();
        assert!(!message.is_empty() && message.contains(mentions), "{function}: {body}");
        assert!(output.contains(error_type), "{function} did not log it:\n{output}");
    }
}

#[test]
fn where_the_extensions_api_exists_pay_registers_and_flushes_on_sigterm() {
    binaries();
    let settings = Settings::new("127.0.0.1:9");
    let api = RuntimeApi::with_extensions("pay");
    let mut process = Process::start("pay", &api, &settings);
    let registered = |requests: &[String]| {
        requests.iter().any(|r| r == "extension _ticketing-graceful-shutdown registered for {\"events\":[]}")
            && requests.iter().any(|r| r == "GET /2020-01-01/extension/event/next -> held")
            && polls(requests) >= 1
    };
    wait_for_request(&api, &mut process, registered, "the extension's registration and both long polls");
    let pid = process.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = process.wait_exit(Duration::from_secs(10));
    let output = process.finish();
    assert!(status.is_some_and(|s| s.success()), "pay exited {status:?} on SIGTERM:\n{output}");
    assert!(output.contains("graceful shutdown complete"), "{output}");
    assert!(!output.contains("no Lambda Extensions API"), "{output}");
}
