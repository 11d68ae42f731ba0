//! Creates a user with balance 0 and returns a signed access token (POST /users).

mod handler;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| handler::handle(&app, req))).await
}
