//! The `main` of every function, in one expression: set up logging, build the [`App`] once
//! (clients, settings, and for the functions that publish, the Kafka producer), and run one
//! handler for every event of the process's life, as aws-lambda-rust-runtime's examples do:
//!
//! ```ignore
//! ticketing::entry::Entry::new().await?.http(get_balance::handle).await
//! ```
//!
//! The [`App`] lives as long as the process, so handlers borrow it for `'static`.

use std::future::Future;

use lambda_http::lambda_runtime::{self, LambdaEvent};
use lambda_http::{Request, Response};
use serde::{de::DeserializeOwned, Serialize};

use crate::app::App;
use crate::http::{respond, HttpResult};

pub type Error = lambda_http::Error;

/// A process's [`App`], built once, ready to run its handler.
pub struct Entry {
    app: &'static App,
}

impl Entry {
    /// Logging, then the app from the environment (Redis only).
    pub async fn new() -> Result<Entry, Error> {
        crate::telemetry::init();
        Ok(Entry { app: Box::leak(Box::new(App::from_env().await?)) })
    }

    /// Logging, then the app with the Kafka producer of `KAFKA_BROKERS`, flushed when Lambda
    /// shuts the process down (`pay`, `outbox-relay`).
    #[cfg(feature = "kafka")]
    pub async fn with_payment_events() -> Result<Entry, Error> {
        crate::telemetry::init();
        let app: &'static App = Box::leak(Box::new(App::from_env().await?.with_payment_events()?));
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
        lambda_http::run(lambda_http::service_fn(move |req| async move { Ok::<Response<_>, Error>(respond(handler(app, req).await)) }))
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
