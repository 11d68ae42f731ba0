//! Lists the seats of a schedule (GET /concerts/{concertId}/schedules/{scheduleId}/seats).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| list_seats::handle(&app, req))).await
}
