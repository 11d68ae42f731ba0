//! Operators: creates a concert with schedules and seats (POST /admin/concerts).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(create_concert::handle).await
}
