//! Scheduled functions fire at most once a minute, but admission and the hold sweeper should act
//! every second. So one invocation runs a tick every `period`, on period boundaries, until its
//! deadline is near. The deadline is the function's timeout, longer than the schedule's period
//! (150 s against 60 s in `template.yaml`), so runs overlap and a schedule firing late or not at
//! all leaves no second without a tick. Overlapping invocations are harmless: each tick is
//! idempotent per tick start. [`every_tick`] is the whole body of a scheduled handler.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use lambda_http::lambda_runtime::LambdaEvent;
use serde_json::{json, Value};

use crate::app::App;
use crate::domain::now_ms;

/// Stop this long before the deadline, so the last tick finishes in time.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(1500);

/// The start (epoch ms) of the tick period `now_ms` falls in: the name of a tick. Unlike a tick
/// number (`now / period`) it keeps growing when the period changes, so raising `TICK_MILLIS`
/// never makes the next ticks look older than the last one run.
pub fn tick_start(now_ms: u64, period_ms: u64) -> u64 {
    now_ms - now_ms % period_ms.max(1)
}

/// The whole body of a scheduled handler: runs `tick(now_ms)` every `TICK_MILLIS` until the
/// invocation's deadline ([`run_ticks`], [`stop_at`]) and answers `{"ticks": n, <counted>: sum}`,
/// where each tick returns how many things it did (admitted, released, published).
pub async fn every_tick<F, Fut, E>(app: &App, event: &LambdaEvent<Value>, counted: &str, tick: F) -> Value
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<u64, E>>,
    E: Display,
{
    let stop = stop_at(event.context.deadline, &event.payload);
    let (ticks, total) = run_ticks(stop, app.config.admission.tick, tick).await;
    json!({ "ticks": ticks, counted: total })
}

/// Calls `tick(now_ms)` at each multiple of `period` until `deadline_ms` (epoch ms) minus the
/// margin. The first tick runs at once. Returns how many ran
/// and the sum of what they returned. A tick error is logged and the loop goes on: the next tick
/// may well succeed.
pub async fn run_ticks<F, Fut, E>(deadline_ms: u64, period: Duration, mut tick: F) -> (u32, u64)
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<u64, E>>,
    E: Display,
{
    let period_ms = period.as_millis().max(1) as u64;
    let stop = deadline_ms.saturating_sub(DEADLINE_MARGIN.as_millis() as u64);
    let (mut ran, mut total) = (0, 0);
    let mut now = now_ms();
    tracing::debug!(stop_at = stop, deadline_ms, "ticking until");
    loop {
        tracing::debug!(tick_at = now, "tick");
        match tick(now).await {
            Ok(done) => total += done,
            Err(e) => tracing::error!(error = %e, "tick failed"),
        }
        ran += 1;
        let next = (now / period_ms + 1) * period_ms;
        if next >= stop {
            return (ran, total);
        }
        tokio::time::sleep(Duration::from_millis(next.saturating_sub(now_ms()))).await;
        now = now_ms();
    }
}

/// When an invocation must stop ticking: its Lambda deadline, or sooner when the event asks for
/// it with `detail.maxSeconds` (handy for `cargo lambda invoke` and tests).
pub fn stop_at(context_deadline_ms: u64, event: &serde_json::Value) -> u64 {
    let context_deadline_ms = epoch_deadline(context_deadline_ms, now_ms());
    let asked = event.pointer("/detail/maxSeconds").and_then(serde_json::Value::as_u64);
    match asked {
        Some(seconds) => context_deadline_ms.min(now_ms() + seconds * 1000 + DEADLINE_MARGIN.as_millis() as u64),
        None => context_deadline_ms,
    }
}

/// The deadline as epoch milliseconds. Lambda sends `Lambda-Runtime-Deadline-Ms` as epoch
/// milliseconds; the emulator of `cargo lambda watch` (1.9.2) sends the time left instead
/// (600000). No real deadline lies before 2001 (10^12 ms), so a smaller value is taken as the time
/// left from `now_ms`.
fn epoch_deadline(deadline_ms: u64, now_ms: u64) -> u64 {
    const YEAR_2001_MS: u64 = 1_000_000_000_000;
    if deadline_ms < YEAR_2001_MS {
        now_ms + deadline_ms
    } else {
        deadline_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ticks_once_per_period_until_the_deadline() {
        let deadline = now_ms() + DEADLINE_MARGIN.as_millis() as u64 + 250;
        let mut seen = Vec::new();
        let (ran, total) = run_ticks(deadline, Duration::from_millis(50), |now| {
            seen.push(now);
            async { Ok::<_, String>(2) }
        })
        .await;
        assert_eq!(ran as usize, seen.len());
        assert_eq!(total, 2 * ran as u64);
        assert!((3..=7).contains(&ran), "ran {ran} ticks");
        // After the first, every tick starts on a new period.
        let periods: Vec<u64> = seen.iter().map(|t| t / 50).collect();
        assert!(periods.windows(2).all(|w| w[1] > w[0]), "{periods:?}");
    }

    #[test]
    fn tick_starts_grow_whatever_the_period() {
        assert_eq!(tick_start(10_500, 1_000), 10_000);
        // From 1 s ticks to 2 s ticks and back: never a start below one already run.
        let mut last = tick_start(10_500, 1_000);
        for (now, period) in [(12_100, 2_000), (13_050, 1_000), (16_000, 2_000), (16_500, 500)] {
            let start = tick_start(now, period);
            assert!(start > last, "{now} with {period}: {start} after {last}");
            last = start;
        }
    }

    #[test]
    fn a_deadline_sent_as_time_left_is_read_from_now() {
        let now = 1_795_710_512_254;
        assert_eq!(epoch_deadline(now + 150_000, now), now + 150_000, "Lambda: epoch ms");
        assert_eq!(epoch_deadline(600_000, now), now + 600_000, "cargo lambda watch: the time left");
    }

    #[tokio::test]
    async fn a_past_deadline_still_runs_one_tick() {
        let (ran, total) = run_ticks(0, Duration::from_millis(10), |_| async { Err::<u64, _>("down") }).await;
        assert_eq!((ran, total), (1, 0));
    }
}
