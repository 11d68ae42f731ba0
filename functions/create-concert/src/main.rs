//! Operators: creates a concert with schedules and seats (POST /admin/concerts).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| create_concert::handle(&app, req))).await
}
