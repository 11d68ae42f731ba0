//! Pays a held seat from the balance (POST /payments).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    let events = ticketing::events::producer_for_process(&app.config).await?;
    lambda_http::run(lambda_http::service_fn(|req| pay::handle(&app, events, req))).await
}
