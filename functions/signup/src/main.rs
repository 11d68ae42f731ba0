//! Creates a user with balance 0 and returns a signed access token (POST /users).

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.http(signup::handle).await
}
