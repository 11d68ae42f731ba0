//! The gateway's own latency, per route: so a load test can tell the service's time from what a
//! client on the same machine saw (k6's figures include its own scheduling). Two histograms per
//! route: the service time (from the moment hyper hands over the parsed request to the response
//! ready to write, body read and handler included) and the handler's own time. Served at
//! `GET /__stats`, emptied by `DELETE /__stats`.
//!
//! Buckets are log-spaced, 16 per power of two (about 4 % wide), from 1 µs to about 70 minutes;
//! a quantile is the upper bound of its bucket. Recording takes one short lock per request.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value};

const SUB: u32 = 16;
const BUCKETS: usize = (32 * SUB) as usize;

/// Counts of durations in log-spaced buckets.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max_us: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS], total: 0, max_us: 0 }
    }
}

/// The bucket of `us` microseconds.
fn bucket(us: u64) -> usize {
    if us < SUB as u64 {
        return us as usize;
    }
    let octave = 63 - us.leading_zeros(); // 2^octave <= us
    let sub = (us >> (octave - SUB.trailing_zeros())) as u32 - SUB;
    (((octave - SUB.trailing_zeros() + 1) * SUB + sub) as usize).min(BUCKETS - 1)
}

/// The largest value in `index`'s bucket, in microseconds.
fn upper(index: usize) -> u64 {
    let index = index as u32;
    if index < SUB {
        return index as u64;
    }
    let octave = index / SUB - 1 + SUB.trailing_zeros();
    let sub = (index % SUB + SUB) as u64;
    ((sub + 1) << (octave - SUB.trailing_zeros())) - 1
}

impl Histogram {
    pub fn record(&mut self, d: Duration) {
        let us = d.as_micros().min(u64::MAX as u128) as u64;
        self.counts[bucket(us)] += 1;
        self.total += 1;
        self.max_us = self.max_us.max(us);
    }

    /// The `q` quantile (0..=1) in microseconds; 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper(i).min(self.max_us);
            }
        }
        self.max_us
    }

    fn summary(&self) -> Value {
        let ms = |us: u64| us as f64 / 1000.0;
        json!({
            "count": self.total,
            "p50": ms(self.quantile(0.50)),
            "p95": ms(self.quantile(0.95)),
            "p99": ms(self.quantile(0.99)),
            "max": ms(self.max_us),
        })
    }
}

#[derive(Default)]
struct RouteStats {
    service: Histogram,
    handler: Histogram,
}

/// Every route's histograms.
#[derive(Default)]
pub struct Stats {
    routes: Mutex<BTreeMap<String, RouteStats>>,
}

impl Stats {
    pub fn record(&self, route: &str, service: Duration, handler: Duration) {
        let mut routes = self.routes.lock().expect("stats lock");
        let entry = match routes.get_mut(route) {
            Some(entry) => entry,
            None => routes.entry(route.to_owned()).or_default(),
        };
        entry.service.record(service);
        entry.handler.record(handler);
    }

    /// `{route: {service: {count, p50, p95, p99, max}, handler: {...}}}`, in milliseconds.
    pub fn snapshot(&self) -> Value {
        let routes = self.routes.lock().expect("stats lock");
        Value::Object(
            routes
                .iter()
                .map(|(name, r)| (name.clone(), json!({ "service": r.service.summary(), "handler": r.handler.summary() })))
                .collect(),
        )
    }

    pub fn reset(&self) {
        self.routes.lock().expect("stats lock").clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_ordered_and_tight() {
        let mut last = 0;
        for us in [0u64, 1, 15, 16, 17, 31, 32, 100, 1_000, 1_234, 10_000, 999_999, 60_000_000] {
            let b = bucket(us);
            assert!(b >= last, "{us}");
            last = b;
            let hi = upper(b);
            assert!(hi >= us && hi as f64 <= us as f64 * 1.07 + 1.0, "{us} -> bucket {b} up to {hi}");
        }
    }

    #[test]
    fn quantiles_come_from_the_recorded_durations() {
        let mut h = Histogram::default();
        for ms in 1..=100u64 {
            h.record(Duration::from_millis(ms));
        }
        let p50 = h.quantile(0.5) as f64 / 1000.0;
        let p99 = h.quantile(0.99) as f64 / 1000.0;
        assert!((50.0..=53.0).contains(&p50), "{p50}");
        assert!((99.0..=100.0).contains(&p99), "{p99}");
        assert_eq!(h.quantile(1.0), 100_000);
    }
}
