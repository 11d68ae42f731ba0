//! Kafka trigger: counts each PaymentCompleted event once in the sales ledger.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_runtime::run(lambda_runtime::service_fn(|event| on_payment_completed::handle(&app, event))).await
}
