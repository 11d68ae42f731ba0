//! Loads demo concerts into the Redis named by `REDIS_URL` / `KEY_PREFIX`, unless the catalog
//! already has some (pass `--force` to add more anyway).
//!
//! `cargo run -p local-stack --bin seed -- [--concerts N] [--seats N] [--force]`

use ticketing::domain::inputs::{NewConcertRequest, NewScheduleRequest};
use ticketing::{App, Config};

const TITLES: [&str; 5] = ["Winter Live", "Spring Tour", "Summer Festival", "Autumn Jazz Night", "New Year Gala"];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |flag: &str, default: i64| -> Result<i64, String> {
        match args.iter().position(|a| a == flag) {
            None => Ok(default),
            Some(i) => args.get(i + 1).and_then(|v| v.parse().ok()).ok_or(format!("{flag} needs a number")),
        }
    };
    let concerts = number("--concerts", 3)?.clamp(1, TITLES.len() as i64) as usize;
    let seats = number("--seats", 50)?;
    let force = args.iter().any(|a| a == "--force");

    let app = App::new(Config::from_env()?).await?;
    let existing = app.store.concerts().await?;
    if !existing.is_empty() && !force {
        println!("catalog already has {} concert(s); nothing added (use --force to add more)", existing.len());
        return Ok(());
    }
    for (i, title) in TITLES.iter().take(concerts).enumerate() {
        let concert = NewConcertRequest {
            title: title.to_string(),
            venue: "Olympic Hall, Seoul".into(),
            schedules: (0..2)
                .map(|day| NewScheduleRequest {
                    starts_at: format!("2026-12-{:02}T19:00:00Z", 10 + i * 3 + day),
                    price: 50_000 + 10_000 * i as i64,
                    seat_count: seats,
                })
                .collect(),
        }
        .into_concert()?;
        app.store.create_concert(&concert).await?;
        println!("{}  {}  schedules: {}", concert.concert_id, concert.title,
            concert.schedules.iter().map(|s| s.schedule_id.as_str()).collect::<Vec<_>>().join(", "));
    }
    Ok(())
}
