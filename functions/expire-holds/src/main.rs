//! Scheduled: releases seats whose hold ran out, every tick until the deadline.

#[tokio::main]
async fn main() -> Result<(), ticketing::entry::Error> {
    ticketing::entry::Entry::new().await?.events(expire_holds::handle).await
}
