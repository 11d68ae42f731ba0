//! Scheduled: releases seats whose hold ran out, every tick until the deadline.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| expire_holds::handle(&app, event))).await
}
