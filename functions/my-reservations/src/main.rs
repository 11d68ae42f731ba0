//! Lists the caller's holds and purchases (GET /users/me/reservations).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| my_reservations::handle(&app, req))).await
}
