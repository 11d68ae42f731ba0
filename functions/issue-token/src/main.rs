//! Enters the waiting room or returns the caller's live queue token (POST /queue/tokens).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| issue_token::handle(&app, req))).await
}
