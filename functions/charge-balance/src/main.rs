//! Adds to the caller's balance, once per Idempotency-Key (POST /users/me/balance).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| charge_balance::handle(&app, req))).await
}
