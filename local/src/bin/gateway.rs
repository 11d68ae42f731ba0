//! Serves every function on one port (default 127.0.0.1:3000, `GATEWAY_ADDR` to change), with the
//! schedules and the Kafka event source running in-process. Settings as for the functions.
//!
//! `set -a; . local/dev.env; set +a; cargo run --release -p local-stack --bin gateway`

use ticketing::{App, Config};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    ticketing::telemetry::init();
    let app: &'static App = Box::leak(Box::new(App::new(Config::from_env()?).await?.with_payment_events()?));
    let addr = std::env::var("GATEWAY_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into()).parse()?;
    let bound = local_stack::gateway::start(app, addr).await?;
    tracing::info!(%bound, kafka = app.events().is_some(), "gateway ready");
    println!("gateway listening on http://{bound}");
    tokio::signal::ctrl_c().await?;
    if let Some(events) = app.events() {
        events.flush(std::time::Duration::from_secs(2));
    }
    Ok(())
}
