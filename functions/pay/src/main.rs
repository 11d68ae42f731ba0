//! Pays a held seat from the balance (POST /payments).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::with_payment_events().await?.http(pay::handle).await
}
