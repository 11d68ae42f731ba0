//! Holds a seat for HOLD_SECONDS (POST /reservations).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| hold_seat::handle(&app, req))).await
}
