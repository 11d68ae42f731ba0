//! Operators: sold seats and revenue per schedule from the sales ledger (GET /admin/sales).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(sales_report::handle).await
}
