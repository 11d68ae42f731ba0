//! Lists concerts with their schedules and available seats (GET /concerts).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| list_concerts::handle(&app, req))).await
}
