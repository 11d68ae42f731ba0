//! Returns the caller's balance (GET /users/me/balance).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| get_balance::handle(&app, req))).await
}
