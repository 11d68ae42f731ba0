//! Loads demo data into the Redis named by `REDIS_URL` / `KEY_PREFIX`:
//! - demo concerts (`--schedules` schedules of `--seats` seats each), unless the catalog already has some
//!   (`--force` adds more anyway);
//! - the fixture user and concert that `local/events/*.json` name, so `cargo lambda invoke` with
//!   those events works: user `FIXTURE_USER` with a balance, its queue ticket 0 ACTIVE for a day,
//!   and a concert with fixed ids.
//!
//! `cargo run -p local-stack --bin seed -- [--concerts N] [--schedules N] [--seats N] [--opens-in S]
//! [--prequeue S] [--force]`: the demo sale opens in S seconds (default at once), its pre-queue S
//! seconds before that.

use ticketing::domain::admin::{NewConcertRequest, NewScheduleRequest};
use ticketing::domain::ids::{ConcertId, ScheduleId, UserId};
use ticketing::domain::inputs::{Amount, UserName};
use ticketing::domain::models::rfc3339;
use ticketing::domain::now_ms;
use ticketing::domain::tokens::QueueTicket;
use ticketing::{App, Config};

const TITLES: [&str; 5] = ["Winter Live", "Spring Tour", "Summer Festival", "Autumn Jazz Night", "New Year Gala"];

/// The ids the invoke fixtures use.
pub const FIXTURE_USER: &str = "00000000000000000000000000000001";
pub const FIXTURE_CONCERT: &str = "000000000000000000000000000000c1";
pub const FIXTURE_SCHEDULE: &str = "0000000000000000000000000000005c";

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
    let schedules = number("--schedules", 2)?.clamp(1, 100) as usize;
    let opens_in = number("--opens-in", 0)?.max(0) as u64;
    let prequeue = number("--prequeue", 0)?.max(0) as u64;
    let force = args.iter().any(|a| a == "--force");
    let app = App::new(Config::from_env()?).await?;

    seed_fixtures(&app).await?;
    let existing = app.store.catalog.concerts().await?.into_iter().filter(|c| c.concert_id.as_str() != FIXTURE_CONCERT).count();
    if existing > 0 && !force {
        println!("catalog already has {existing} demo concert(s); nothing added (use --force to add more)");
        return Ok(());
    }
    let opens_at = now_ms() + opens_in * 1000;
    for (i, title) in TITLES.iter().take(concerts).enumerate() {
        let mut request = demo_concert(title, i, schedules, seats);
        request.opens_at = Some(rfc3339(opens_at));
        request.prequeue_opens_at = Some(rfc3339(opens_at.saturating_sub(prequeue * 1000)));
        let (concert, sale) = request.into_concert(now_ms())?;
        app.store.create_concert(&concert, sale).await?;
        println!(
            "{}  {}: {} schedule(s) of {seats} seats, pre-queue {}, sale opens {}",
            concert.concert_id,
            concert.title,
            concert.schedules.len(),
            concert.sale.prequeue_opens_at,
            concert.sale.opens_at
        );
    }
    Ok(())
}

fn demo_concert(title: &str, i: usize, schedules: usize, seats: i64) -> NewConcertRequest {
    NewConcertRequest {
        title: title.to_string(),
        venue: "Olympic Hall, Seoul".into(),
        prequeue_opens_at: None,
        opens_at: None,
        schedules: (0..schedules)
            .map(|day| NewScheduleRequest {
                starts_at: format!("2027-{:02}-{:02}T19:00:00Z", 1 + i, 1 + day % 28),
                price: 50_000 + 10_000 * i as i64,
                seat_count: seats,
            })
            .collect(),
    }
}

/// The fixture user (re-funded on every run), its ACTIVE ticket, and the fixture concert.
async fn seed_fixtures(app: &App) -> Result<(), Box<dyn std::error::Error>> {
    let user = UserId::parse(FIXTURE_USER)?;
    if app.store.users.balance(&user).await.is_err() {
        app.store.users.create(&user, &UserName::parse("Fixture Fan")?, now_ms()).await?;
    }
    let balance = app.store.users.balance(&user).await?;
    if balance < 1_000_000 {
        app.store.users.charge(&user, Amount::parse_charge((1_000_000 - balance).min(Amount::MAX_CHARGE) as i64)?, None).await?;
    }
    let fixture = ConcertId::parse(FIXTURE_CONCERT)?;
    if !app.store.catalog.concerts().await?.iter().any(|c| c.concert_id == fixture) {
        let (mut concert, sale) = demo_concert("Fixture Concert", 0, 1, 50).into_concert(now_ms())?;
        concert.concert_id = fixture.clone();
        concert.schedules.truncate(1);
        concert.schedules[0].schedule_id = ScheduleId::parse(FIXTURE_SCHEDULE)?;
        app.store.create_concert(&concert, sale).await?;
    }
    ticketing::testing::grant_active(&app.store, &QueueTicket { user, concert: fixture, number: 0 }, now_ms() + 86_400_000).await?;
    println!("fixture user {FIXTURE_USER} ready (ticket 0 ACTIVE for a day), fixture concert {FIXTURE_CONCERT}");
    Ok(())
}
