//! Reports a queue token's status, position and ETA (GET /queue/tokens/current).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| token_status::handle(&app, req))).await
}
