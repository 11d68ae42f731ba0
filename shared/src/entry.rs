//! The `main` of every function, in one expression: set up logging, build the [`App`] once
//! (clients, settings, and for the functions that publish, the Kafka producer), and run one
//! handler for every event of the process's life, as aws-lambda-rust-runtime's examples do:
//!
//! ```ignore
//! ticketing::entry::Entry::new().await?.http(get_balance::handle).await
//! ```
//!
//! The [`App`] lives as long as the process, so handlers borrow it for `'static`.
//!
//! A start that fails (bad settings, an unreachable store, bad Kafka settings) is logged and
//! reported to the Runtime API's `/runtime/init/error` with an error type naming what failed
//! ([`StartupError::error_type`]) before `main` returns the error and the process exits non-zero.

use std::future::Future;

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{Request, Response};
use serde::{de::DeserializeOwned, Serialize};

use crate::app::App;
use crate::http::{answer, HttpResult};
use crate::lifecycle;
use crate::startup::StartupError;

pub type Error = lambda_http::Error;

/// A process's [`App`], built once, ready to run its handler.
pub struct Entry {
    app: &'static App,
}

impl Entry {
    /// Logging, then the app from the environment (Redis only).
    pub async fn new() -> Result<Entry, Error> {
        crate::telemetry::init();
        let app = started(App::from_env().await).await?;
        Ok(Entry { app: Box::leak(Box::new(app)) })
    }

    /// Logging, then the app with the Kafka producer of `KAFKA_BROKERS`, flushed when Lambda
    /// shuts the process down (`pay`, `outbox-relay`).
    #[cfg(feature = "kafka")]
    pub async fn with_payment_events() -> Result<Entry, Error> {
        crate::telemetry::init();
        let app = App::from_env().await.and_then(App::with_payment_events);
        let app: &'static App = Box::leak(Box::new(started(app).await?));
        if let Some(events) = app.events() {
            crate::kafka::flush_at_shutdown(events.clone()).await;
        }
        Ok(Entry { app })
    }

    /// Runs an HTTP (API Gateway) handler; its errors become problem+json answers.
    pub async fn http<F, Fut>(self, handler: F) -> Result<(), Error>
    where
        F: Fn(&'static App, Request) -> Fut + Send + Sync,
        Fut: Future<Output = HttpResult> + Send,
    {
        let (app, handler) = (self.app, &handler);
        lambda_http::run(lambda_http::service_fn(move |req: Request| async move {
            let (started, route) = (std::time::Instant::now(), crate::http::route_key(&req));
            let resp = answer(app, handler(app, req)).await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            crate::metrics::request(&route, resp.status().as_u16(), ms, crate::domain::now_ms()).emit();
            Ok::<Response<_>, Error>(resp)
        }))
        .await
    }

    /// Runs a handler of other events: a schedule (`serde_json::Value`) or a Kafka batch.
    pub async fn events<E, R, F, Fut>(self, handler: F) -> Result<(), Error>
    where
        E: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        F: Fn(&'static App, LambdaEvent<E>) -> Fut + Send + Sync,
        Fut: Future<Output = Result<R, Error>> + Send,
    {
        let (app, handler) = (self.app, &handler);
        lambda_runtime::run(lambda_runtime::service_fn(move |event| handler(app, event))).await
    }
}

/// The app, or the failure logged, reported to the Runtime API and returned.
async fn started(app: Result<App, StartupError>) -> Result<App, Error> {
    match app {
        Ok(app) => Ok(app),
        Err(error) => {
            fail_start(&error, error.error_type()).await;
            Err(error.into())
        }
    }
}

/// Logs a failed start and reports it to the Runtime API (`POST /runtime/init/error`) with
/// `error_type` (see [`lifecycle::startup`]); the caller then returns the error from `main`.
pub async fn fail_start(error: &dyn std::error::Error, error_type: &str) {
    tracing::error!(error_type, error = %lifecycle::message(error), "the function cannot start");
    lifecycle::report_init_error(error, error_type).await;
}
