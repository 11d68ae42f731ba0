//! Creates a user with balance 0 and returns a signed access token (POST /users).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| signup::handle(&app, req))).await
}
