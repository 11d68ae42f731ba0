//! Lambda's Kafka event source on one machine, as a process of its own: feeds the payments topic
//! to `on-payment-completed` (for `local/watch`, beside `cargo lambda watch`). Settings as for the
//! functions.
//!
//! `set -a; . local/dev.env; set +a; cargo run -p local-stack --bin kafka-trigger`

use ticketing::{App, Config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ticketing::telemetry::init();
    let app = App::new(Config::from_env()?).await?;
    local_stack::runners::run_kafka_source(&app).await?;
    Ok(())
}
