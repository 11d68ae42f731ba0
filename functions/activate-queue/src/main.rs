//! Scheduled: admits waiting users every tick until the invocation's deadline.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| activate_queue::handle(&app, event))).await
}
