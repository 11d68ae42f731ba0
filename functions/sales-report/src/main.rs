//! Operators: sold seats and revenue per schedule from the sales ledger (GET /admin/sales).

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    ticketing::telemetry::init();
    let app = ticketing::App::from_env().await?;
    lambda_http::run(lambda_http::service_fn(|req| sales_report::handle(&app, req))).await
}
