//! The operator's report after a sale: what it is built from and how exact each figure is. Every
//! figure comes from a counter the room keeps as it goes (no scan of the fans on a request):
//!
//! - the queue wait (joining to admission; from the opening for the pre-queue) is a histogram the
//!   admission tick counts into (`wait:<bound>` of the room's stats), by the upper bounds
//!   [`SECONDS_BUCKETS`]: its quantiles are the bound of the bucket they fall in, so they are
//!   exact to that bucket; so are the time in the booking path (admission to the payment that ends
//!   the fan's token, `path:<bound>`, counted as the token ends) and the time from a hold to its
//!   payment (`paidIn:<bound>` of each schedule's meta, counted by the payment's last step);
//! - seats sold per minute are counted by the payment's last step, by the minute it was paid in;
//! - the fans who held and who bought are HyperLogLog counts per schedule (within about 1 %),
//!   summed over the schedules: a fan who held in two counts twice.

/// The upper bounds, in seconds, of the report's histograms of times (the queue wait, the booking
/// path, a hold to its payment); a time above the last counts as `None` (beyond it).
pub const SECONDS_BUCKETS: [u64; 14] = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1_200, 1_800, 3_600, 7_200, 14_400];

/// [`SECONDS_BUCKETS`] as the scripts that count into them take them: comma-separated, made once.
pub fn seconds_buckets_text() -> &'static str {
    static TEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| SECONDS_BUCKETS.map(|b| b.to_string()).join(","));
    &TEXT
}

/// How many times fell up to each bound.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecondsHistogram {
    /// Per bound of [`SECONDS_BUCKETS`], in order, then those beyond the last.
    pub counts: [u64; SECONDS_BUCKETS.len() + 1],
}

impl SecondsHistogram {
    /// From the fields `<prefix><bound>` and `<prefix>inf` (as `wait:5`); others are ignored.
    pub fn from_fields<'a>(prefix: &str, fields: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut histogram = SecondsHistogram::default();
        for (name, count) in fields {
            let Some(bound) = name.strip_prefix(prefix) else { continue };
            let slot = match bound {
                "inf" => Some(SECONDS_BUCKETS.len()),
                b => b.parse::<u64>().ok().and_then(|b| SECONDS_BUCKETS.iter().position(|&x| x == b)),
            };
            if let Some(slot) = slot {
                histogram.counts[slot] += count;
            }
        }
        histogram
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The mean, each time taken at the middle of its bucket (those beyond the last bound at the
    /// last bound): `None` when nothing was counted.
    pub fn mean_seconds(&self) -> Option<f64> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let mut lower = 0.0;
        let mut sum = 0.0;
        for (slot, &count) in self.counts.iter().enumerate() {
            let middle = match SECONDS_BUCKETS.get(slot) {
                Some(&upper) => (lower + upper as f64) / 2.0,
                None => lower,
            };
            sum += count as f64 * middle;
            lower = SECONDS_BUCKETS.get(slot).map_or(lower, |&upper| upper as f64);
        }
        Some(sum / total as f64)
    }

    /// The `q` quantile as the upper bound of its bucket, in seconds: `None` when nobody was
    /// admitted, `Some(None)` beyond the last bound.
    pub fn quantile(&self, q: f64) -> Option<Option<u64>> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (slot, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return Some(SECONDS_BUCKETS.get(slot).copied());
            }
        }
        Some(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_the_bound_of_their_bucket() {
        let h = SecondsHistogram::from_fields("wait:", [("wait:5", 50), ("wait:60", 40), ("wait:inf", 10), ("rate", 7), ("wait:7", 3)]);
        assert_eq!(h.total(), 100, "an unknown bound and other fields are not counted");
        assert_eq!(h.quantile(0.5), Some(Some(5)));
        // 50 at 3.5 s (2-5), 40 at 45 s (30-60), 10 at the last bound.
        let mean = (50.0 * 3.5 + 40.0 * 45.0 + 10.0 * 14_400.0) / 100.0;
        assert!((h.mean_seconds().unwrap() - mean).abs() < 1e-9);
        assert_eq!(SecondsHistogram::default().mean_seconds(), None);
        assert_eq!(h.quantile(0.51), Some(Some(60)));
        assert_eq!(h.quantile(0.9), Some(Some(60)));
        assert_eq!(h.quantile(0.99), Some(None), "beyond the last bound");
        assert_eq!(SecondsHistogram::default().quantile(0.5), None);
    }
}
