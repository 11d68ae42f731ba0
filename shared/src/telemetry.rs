//! Logging. On Lambda (or with `LOG_FORMAT=json`) every line is JSON, and lambda_runtime adds the
//! request id to each line of an invocation's span; locally the lines are plain text.

use tracing_subscriber::{fmt, EnvFilter};

pub fn init() {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match std::env::var("LOG_FORMAT") {
        Ok(format) => format.eq_ignore_ascii_case("json"),
        Err(_) => std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some(),
    };
    let builder = fmt().with_env_filter(filter).with_target(false);
    let result =
        if json { builder.json().flatten_event(true).with_current_span(true).without_time().try_init() } else { builder.try_init() };
    // A second init (tests, or a gateway hosting many handlers) keeps the first subscriber.
    let _ = result;
}
