//! The operator's report after a sale: what it is built from and how exact each figure is. Every
//! figure comes from a counter the room keeps as it goes (no scan of the fans on a request):
//!
//! - the queue wait (joining to admission; from the opening for the pre-queue) is a histogram the
//!   admission tick counts into, by the upper bounds [`WAIT_BUCKETS_SECONDS`]: its quantiles are
//!   the bound of the bucket they fall in, so they are exact to that bucket;
//! - seats sold per minute are counted by the payment's last step, by the minute it was paid in.

/// The queue-wait histogram's upper bounds, in seconds; a wait above the last counts as `None`
/// (beyond it).
pub const WAIT_BUCKETS_SECONDS: [u64; 14] = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1_200, 1_800, 3_600, 7_200, 14_400];

/// How many admitted fans waited up to each bound.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitHistogram {
    /// Per bound of [`WAIT_BUCKETS_SECONDS`], in order, then those beyond the last.
    pub counts: [u64; WAIT_BUCKETS_SECONDS.len() + 1],
}

impl WaitHistogram {
    /// From the stats' `wait:<bound>` and `wait:inf` fields; others are ignored.
    pub fn from_fields<'a>(fields: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut histogram = WaitHistogram::default();
        for (name, count) in fields {
            let Some(bound) = name.strip_prefix("wait:") else { continue };
            let slot = match bound {
                "inf" => Some(WAIT_BUCKETS_SECONDS.len()),
                b => b.parse::<u64>().ok().and_then(|b| WAIT_BUCKETS_SECONDS.iter().position(|&x| x == b)),
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
                return Some(WAIT_BUCKETS_SECONDS.get(slot).copied());
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
        let h = WaitHistogram::from_fields([("wait:5", 50), ("wait:60", 40), ("wait:inf", 10), ("rate", 7), ("wait:7", 3)]);
        assert_eq!(h.total(), 100, "an unknown bound and other fields are not counted");
        assert_eq!(h.quantile(0.5), Some(Some(5)));
        assert_eq!(h.quantile(0.51), Some(Some(60)));
        assert_eq!(h.quantile(0.9), Some(Some(60)));
        assert_eq!(h.quantile(0.99), Some(None), "beyond the last bound");
        assert_eq!(WaitHistogram::default().quantile(0.5), None);
    }
}
