//! The autopilot: each tick, how many fans a room admits next, from the booking path's measured
//! health. Pure arithmetic, no I/O: `store/health.rs` gathers the signal, the tick applies the
//! decision.
//!
//! # The signal
//! The booking path's functions (seat listing, hold, pay) record each answer's service time into
//! a per-room, per-second histogram ([`Health`]: answers, 5xx answers, and counts in
//! [`BUCKET_BOUNDS_MS`]). The tick reads the last complete seconds and estimates the p95 from the
//! histogram (linear within a bucket).
//!
//! # The controller: AIMD on the p95, with a proportional cut
//! - **Cut fast** when the p95 is over the target or 5xx answers pass [`Policy::max_error_rate`]:
//!   the limit is multiplied by `target / p95` (the overshoot's own ratio, the gradient idea of
//!   Envoy's adaptive concurrency and Netflix's concurrency-limits), never by less than
//!   [`Policy::min_factor`] (at most halved per tick), never below [`Policy::floor`].
//! - **Raise slowly** while the p95 is comfortably under the target ([`Policy::comfort`]) and
//!   fans wait: by [`Policy::increase`] of the limit, at least one fan, up to the operator's
//!   ceiling.
//! - **Creep** between the two: one fan a tick (or [`Policy::creep`] of the limit, if more), so a
//!   target close to the path's healthy p95 (say 10 ms where a payment takes 5) does not ratchet
//!   the limit down for good, one noisy second's cut at a time.
//! - **Hold** just after a cut ([`Policy::cooldown`]), when the line is empty (no evidence to
//!   raise on), and when the last seconds had fewer than [`Policy::min_samples`] answers (one slow
//!   request must not steer).
//!
//! Why AIMD and not a PI loop: the booking path's latency is flat until the path nears its
//! capacity and then rises steeply, and admitted fans reach it a second or more after admission;
//! a multiplicative cut proportional to the overshoot reacts within a tick to that cliff, and a
//! slow additive-like rise approaches it without needing a tuned model of the delay. The test
//! below runs the controller against a simulated path (capacity halved and restored mid-run) and
//! states the convergence, overshoot and recovery it achieves.

use serde::{Deserialize, Serialize};

/// Upper bounds, in milliseconds, of the histogram's buckets; one more bucket counts the rest.
pub const BUCKET_BOUNDS_MS: [u64; 7] = [5, 10, 25, 50, 100, 250, 1000];
/// How many buckets a histogram has.
pub const BUCKETS: usize = BUCKET_BOUNDS_MS.len() + 1;

/// The bucket of an answer that took `ms`.
pub fn bucket_of(ms: f64) -> usize {
    BUCKET_BOUNDS_MS.iter().position(|&bound| ms <= bound as f64).unwrap_or(BUCKET_BOUNDS_MS.len())
}

/// The booking path's answers over some seconds of one room.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub answers: u64,
    /// Answers with a 5xx status.
    pub errors: u64,
    pub buckets: [u64; BUCKETS],
}

impl Health {
    /// Adds another period's answers.
    pub fn add(&mut self, other: &Health) {
        self.answers += other.answers;
        self.errors += other.errors;
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine += theirs;
        }
    }

    /// The 95th percentile of the service time, linear within its bucket (the open last bucket
    /// counts as twice its lower bound); `None` without answers.
    pub fn p95_ms(&self) -> Option<f64> {
        let total: u64 = self.buckets.iter().sum();
        if total == 0 {
            return None;
        }
        let rank = 0.95 * total as f64;
        let mut below = 0u64;
        for (i, &count) in self.buckets.iter().enumerate() {
            if count > 0 && (below + count) as f64 >= rank {
                let low = if i == 0 { 0.0 } else { BUCKET_BOUNDS_MS[i - 1] as f64 };
                let high = BUCKET_BOUNDS_MS.get(i).map_or(2.0 * low, |&b| b as f64);
                return Some(low + (high - low) * (rank - below as f64) / count as f64);
            }
            below += count;
        }
        Some(2.0 * BUCKET_BOUNDS_MS[BUCKET_BOUNDS_MS.len() - 1] as f64)
    }

    /// The share of answers that were 5xx.
    pub fn error_rate(&self) -> f64 {
        if self.answers == 0 {
            0.0
        } else {
            self.errors as f64 / self.answers as f64
        }
    }
}

/// How the controller behaves; the defaults are what rooms use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Policy {
    /// The booking path's p95 service time to stay at or under (the room's `targetP95Ms`).
    pub target_p95_ms: f64,
    /// 5xx answers above this share cut the limit as an overshoot does.
    pub max_error_rate: f64,
    /// Fewer answers than this in the window: no change.
    pub min_samples: u64,
    /// The limit never goes below this many fans a tick, so a room never freezes on one bad second.
    pub floor: u64,
    /// The most one cut multiplies the limit by (0.5: at most halved per tick).
    pub min_factor: f64,
    /// The share of the limit added per tick while healthy (at least one fan).
    pub increase: f64,
    /// Raise by `increase` only while the p95 is under this share of the target.
    pub comfort: f64,
    /// Between the comfort line and the target: the share of the limit added per tick (at least
    /// one fan).
    pub creep: f64,
    /// Ticks after a cut before the limit may rise again: fans admitted before the cut are still
    /// in the booking path, and its health shows the cut only once they leave.
    pub cooldown: u32,
}

impl Policy {
    pub const DEFAULT_TARGET_P95_MS: u64 = 50;

    pub fn with_target(target_p95_ms: u64) -> Self {
        Policy {
            target_p95_ms: target_p95_ms.max(1) as f64,
            max_error_rate: 0.01,
            min_samples: 20,
            floor: 1,
            min_factor: 0.5,
            increase: 0.1,
            comfort: 0.5,
            creep: 0.01,
            cooldown: 3,
        }
    }
}

/// Why the limit is what it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    /// The first decision of a room: the start limit.
    Start,
    TooFewSamples,
    Errors,
    OverTarget,
    LineEmpty,
    /// Just after a cut: waiting for its effect before raising.
    Cooldown,
    Headroom,
    NearTarget,
    AtCeiling,
    /// Redis's own round trip was over the target: no rise.
    RedisSlow,
}

/// One tick's decision, as the decision log keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Decision {
    /// Fans admitted at most next tick.
    pub limit: u64,
    /// The limit before this decision.
    pub previous: u64,
    pub reason: Reason,
    pub p95_ms: Option<f64>,
    pub error_rate: f64,
    pub samples: u64,
    pub waiting: u64,
    pub ceiling: u64,
    /// Ticks since the limit was last cut (saturating).
    pub since_cut: u32,
}

/// The limit a room starts with: a fifth of the operator's ceiling, at most 50 fans a tick, at
/// least the floor. The first seconds of measurements then steer it.
pub fn start_limit(policy: &Policy, ceiling: u64) -> u64 {
    (ceiling / 5).clamp(policy.floor, 50).min(ceiling.max(policy.floor))
}

/// The next decision from the last one, the window's health, the operator's ceiling
/// (`admitPerTick`) and how many wait.
pub fn decide(policy: &Policy, last: Option<&Decision>, health: &Health, ceiling: u64, waiting: u64) -> Decision {
    let ceiling = ceiling.max(policy.floor);
    let (p95_ms, error_rate, samples) = (health.p95_ms(), health.error_rate(), health.answers);
    let since_cut = last.map_or(u32::MAX, |d| d.since_cut.saturating_add(1));
    let decision = |limit: u64, previous: u64, reason: Reason| Decision {
        limit: limit.clamp(policy.floor, ceiling),
        previous,
        reason,
        p95_ms,
        error_rate,
        samples,
        waiting,
        ceiling,
        since_cut: if matches!(reason, Reason::Errors | Reason::OverTarget) { 0 } else { since_cut },
    };
    let Some(current) = last.map(|d| d.limit) else {
        return decision(start_limit(policy, ceiling), 0, Reason::Start);
    };
    let current = current.clamp(policy.floor, ceiling);
    let crept = current + ((current as f64 * policy.creep).ceil() as u64).max(1);
    let settling = since_cut < policy.cooldown;
    if samples < policy.min_samples {
        // Too few answers to steer by. If the few there are were all fine and fans wait, the path
        // is nearly idle because admission is low, and at a low limit it could never produce
        // enough answers to rise on: creep. Otherwise hold.
        let fine = health.errors == 0 && p95_ms.is_none_or(|p| p <= policy.target_p95_ms);
        let limit = if fine && waiting > 0 && !settling { crept } else { current };
        return decision(limit, current, Reason::TooFewSamples);
    }
    let cut = |factor: f64| ((current as f64 * factor.max(policy.min_factor)).floor() as u64).min(current.saturating_sub(1));
    if error_rate > policy.max_error_rate {
        return decision(cut(policy.min_factor), current, Reason::Errors);
    }
    let p95 = p95_ms.unwrap_or(0.0);
    if p95 > policy.target_p95_ms {
        // Just after a cut, the fans admitted before it are still in the path and the p95 still
        // shows them: cut again only on a meltdown (over twice the target), else wait for the
        // cut to show. Cutting every tick on the same old seconds took the limit to the floor.
        if settling && p95 <= 2.0 * policy.target_p95_ms {
            return decision(current, current, Reason::Cooldown);
        }
        return decision(cut(policy.target_p95_ms / p95), current, Reason::OverTarget);
    }
    if waiting == 0 {
        return decision(current, current, Reason::LineEmpty);
    }
    if current >= ceiling {
        return decision(ceiling, current, Reason::AtCeiling);
    }
    if settling {
        return decision(current, current, Reason::Cooldown);
    }
    if p95 > policy.target_p95_ms * policy.comfort {
        return decision(crept, current, Reason::NearTarget);
    }
    // The rise shrinks as the p95 nears the comfort line: full steps far from it, small ones
    // close, because the fans admitted now reach the booking path over the next seconds.
    let headroom = 1.0 - p95 / (policy.target_p95_ms * policy.comfort);
    let raised = current + ((current as f64 * policy.increase * headroom).ceil() as u64).max(1);
    decision(raised, current, Reason::Headroom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn health_at(p95_ms: f64, answers: u64, errors: u64) -> Health {
        // Every answer in the bucket holding p95_ms: the estimate lands inside that bucket.
        let mut buckets = [0; BUCKETS];
        buckets[bucket_of(p95_ms)] = answers;
        Health { answers, errors, buckets }
    }

    #[test]
    fn the_p95_is_read_from_the_histogram() {
        let mut h = Health { answers: 100, errors: 0, buckets: [0; BUCKETS] };
        h.buckets[0] = 90; // <= 5 ms
        h.buckets[3] = 10; // 25..50 ms
        let p95 = h.p95_ms().unwrap();
        assert!((37.0..38.0).contains(&p95), "{p95}");
        assert_eq!(Health::default().p95_ms(), None);
        assert_eq!(bucket_of(5.0), 0);
        assert_eq!(bucket_of(5.1), 1);
        assert_eq!(bucket_of(5_000.0), BUCKETS - 1);
    }

    /// A decision that left the limit at `limit`, long after any cut.
    fn at(limit: u64) -> Decision {
        Decision {
            limit,
            previous: limit,
            reason: Reason::Headroom,
            p95_ms: None,
            error_rate: 0.0,
            samples: 0,
            waiting: 0,
            ceiling: limit,
            since_cut: 100,
        }
    }

    #[test]
    fn it_starts_low_holds_on_few_samples_cuts_fast_and_raises_slowly() {
        let p = Policy::with_target(50);
        assert_eq!(decide(&p, None, &Health::default(), 100, 10).limit, 20);
        assert_eq!(decide(&p, None, &Health::default(), 1_000, 10).limit, 50);
        assert_eq!(decide(&p, None, &Health::default(), 2, 10).limit, 1);
        let few = decide(&p, Some(&at(40)), &health_at(900.0, 5, 5), 100, 10);
        assert_eq!((few.limit, few.reason), (40, Reason::TooFewSamples), "a few bad answers: hold");
        let idle = decide(&p, Some(&at(1)), &health_at(4.0, 15, 0), 100, 300);
        assert_eq!((idle.limit, idle.reason), (2, Reason::TooFewSamples), "a few good answers and fans waiting: creep");
        let idle_empty = decide(&p, Some(&at(1)), &health_at(4.0, 15, 0), 100, 0);
        assert_eq!(idle_empty.limit, 1, "nobody waiting: hold");
        let over = decide(&p, Some(&at(40)), &health_at(80.0, 200, 0), 100, 10);
        assert_eq!(over.reason, Reason::OverTarget);
        assert!(over.limit < 40 && over.limit >= 20, "{over:?}");
        let errors = decide(&p, Some(&at(40)), &health_at(3.0, 200, 10), 100, 10);
        assert_eq!((errors.limit, errors.reason), (20, Reason::Errors));
        let healthy = decide(&p, Some(&at(40)), &health_at(3.0, 200, 0), 100, 10);
        assert_eq!((healthy.limit, healthy.reason), (44, Reason::Headroom));
        let after_cut = decide(&p, Some(&over), &health_at(3.0, 200, 0), 100, 10);
        assert_eq!((after_cut.limit, after_cut.reason), (over.limit, Reason::Cooldown), "no rise just after a cut");
        let empty = decide(&p, Some(&at(40)), &health_at(3.0, 200, 0), 100, 0);
        assert_eq!((empty.limit, empty.reason), (40, Reason::LineEmpty));
        let near = decide(&p, Some(&at(40)), &health_at(30.0, 200, 0), 100, 10);
        assert_eq!((near.limit, near.reason), (41, Reason::NearTarget), "creeps up by one between comfort and target");
        let near_after_cut = decide(&p, Some(&over), &health_at(30.0, 200, 0), 100, 10);
        assert_eq!((near_after_cut.limit, near_after_cut.reason), (over.limit, Reason::Cooldown));
        let still_over = decide(&p, Some(&over), &health_at(80.0, 200, 0), 100, 10);
        assert_eq!((still_over.limit, still_over.reason), (over.limit, Reason::Cooldown), "the same old seconds do not cut twice");
        let meltdown = decide(&p, Some(&over), &health_at(400.0, 200, 0), 100, 10);
        assert_eq!(meltdown.reason, Reason::OverTarget, "over twice the target cuts again at once");
        assert!(meltdown.limit < over.limit);

        // A target near the path's healthy p95: noisy seconds cut, and the quiet ones between must
        // win the limit back, not ratchet it down one cut at a time.
        let tight = Policy::with_target(10);
        let mut last = at(40);
        for _ in 0..5 {
            last = decide(&tight, Some(&last), &health_at(20.0, 200, 0), 1_000, 500);
            assert_eq!(last.reason, Reason::OverTarget);
            for _ in 0..40 {
                last = decide(&tight, Some(&last), &health_at(7.0, 200, 0), 1_000, 500);
            }
        }
        assert!(last.limit >= 40, "no ratchet: {last:?}");
        let floor = decide(&p, Some(&at(1)), &health_at(900.0, 200, 0), 100, 10);
        assert_eq!(floor.limit, 1, "never below the floor");
        let ceiling = decide(&p, Some(&at(100)), &health_at(3.0, 200, 0), 100, 10);
        assert_eq!((ceiling.limit, ceiling.reason), (100, Reason::AtCeiling));
        let lowered = decide(&p, Some(&at(300)), &health_at(3.0, 200, 0), 100, 10);
        assert_eq!(lowered.limit, 100, "an operator's lower ceiling applies at once");
    }

    /// A booking path with capacity `capacity` requests a second: each admitted fan sends one
    /// request a second for `STAY` seconds, and the p95 grows as the load nears the capacity
    /// (`BASE_MS / (1 - utilisation)`, as a queue does), reaching the target at 90 % of it.
    struct SimulatedPath {
        in_path: std::collections::VecDeque<u64>,
    }

    const STAY: usize = 4;
    const BASE_MS: f64 = 5.0;

    impl SimulatedPath {
        /// Admits `admitted` fans and returns the second's health as the functions would record it.
        fn second(&mut self, admitted: u64, capacity: f64) -> (Health, f64) {
            self.in_path.push_back(admitted);
            if self.in_path.len() > STAY {
                self.in_path.pop_front();
            }
            let load: u64 = self.in_path.iter().sum();
            let utilisation = (load as f64 / capacity).min(0.995);
            let p95 = BASE_MS / (1.0 - utilisation);
            // Most answers near the median, the slowest 6 % around the p95: the histogram's estimate
            // falls in the p95's own bucket or the next.
            let mut buckets = [0; BUCKETS];
            let slow = load * 6 / 100;
            buckets[bucket_of(p95 / 3.0)] += load - slow;
            buckets[bucket_of(p95 * 1.1)] += slow;
            (Health { answers: load, errors: 0, buckets }, p95)
        }
    }

    #[test]
    fn on_a_simulated_path_it_converges_stays_near_the_target_and_recovers_when_capacity_halves() {
        let policy = Policy::with_target(50);
        let mut path = SimulatedPath { in_path: Default::default() };
        let (ceiling, waiting) = (10_000, 1_000_000);
        let mut last: Option<Decision> = None;
        let mut health = Health::default();
        let mut trace = Vec::new();
        for tick in 0..300 {
            // Capacity 4,000 requests a second, halved for ticks 100..200, then restored.
            let capacity = if (100..200).contains(&tick) { 2_000.0 } else { 4_000.0 };
            let decision = decide(&policy, last.as_ref(), &health, ceiling, waiting);
            let (measured, p95) = path.second(decision.limit, capacity);
            health = measured;
            trace.push((decision.limit, p95));
            last = Some(decision);
        }
        if std::env::var("AUTOPILOT_TRACE").is_ok() {
            for (tick, (limit, p95)) in trace.iter().enumerate() {
                println!("{tick}\t{limit}\t{p95:.1}");
            }
        }
        // At 90 % of capacity the path holds 3,600 (full) or 1,800 (halved) requests a second:
        // 900 or 450 admitted a second, at STAY requests each.
        let settled = |from: usize, to: usize, best: f64| {
            let window = &trace[from..to];
            let mean = window.iter().map(|(l, _)| *l as f64).sum::<f64>() / window.len() as f64;
            let over = window.iter().filter(|(_, p95)| *p95 > 50.0).count() as f64 / window.len() as f64;
            let worst = window.iter().map(|(_, p95)| *p95).fold(0.0, f64::max);
            (mean / best, over, worst)
        };
        let first_at_target = trace.iter().position(|(_, p95)| *p95 > 40.0).unwrap();
        assert!(first_at_target <= 50, "reaches the target's neighbourhood from 50 a tick within 50 ticks: {first_at_target}");
        let (share, over, worst) = settled(50, 100, 900.0);
        assert!(share > 0.7 && share <= 1.0, "full capacity: mean limit {:.0} % of the best", share * 100.0);
        assert!(over < 0.35 && worst < 250.0, "full capacity: over target {:.0} % of ticks, worst p95 {worst:.0} ms", over * 100.0);
        let recovered = trace[100..].iter().position(|(_, p95)| *p95 <= 50.0).unwrap();
        assert!(recovered <= 5, "back under the target within 5 ticks of the cut: {recovered}");
        let (share, over, worst) = settled(110, 200, 450.0);
        assert!(share > 0.7 && share <= 1.0, "halved: mean limit {:.0} % of the best", share * 100.0);
        assert!(over < 0.35 && worst < 250.0, "halved: over target {:.0} % of ticks, worst p95 {worst:.0} ms", over * 100.0);
        let (share, _, _) = settled(250, 300, 900.0);
        assert!(share > 0.7, "restored: back to {:.0} % of the best within 50 ticks", share * 100.0);
        let lowest = (100..130).min_by_key(|&t| trace[t].0).unwrap();
        let regained = trace[lowest..].iter().position(|(limit, _)| *limit as f64 >= 0.8 * 450.0).unwrap() + lowest - 100;
        println!(
            "autopilot on the simulated path: near the target after {first_at_target} ticks; settled at {:.0} % of the best rate \
             (full), {:.0} % (halved), {:.0} % (restored); p95 under the target again {recovered} ticks after the cut, \
             80 % of the halved best regained after {regained}",
            settled(50, 100, 900.0).0 * 100.0,
            settled(110, 200, 450.0).0 * 100.0,
            share * 100.0
        );
    }
}
