//! The waiting room's arithmetic: what a status check reports and when the client should ask again.

/// A queue token's state as the store reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum QueuePosition {
    /// `position` is 1 for the front of the line. `admitted_per_second` is the rate measured over
    /// recent admission ticks, `None` until one has been observed.
    Waiting {
        position: u64,
        admitted_per_second: Option<f64>,
    },
    Active {
        expires_at_ms: u64,
    },
    Expired,
}

/// Seconds until a waiting user is admitted, from the observed rate. `None` when nothing has been
/// admitted recently enough to know.
pub fn eta_seconds(position: u64, admitted_per_second: Option<f64>) -> Option<u64> {
    let rate = admitted_per_second.filter(|r| *r >= 0.01)?;
    Some((position as f64 / rate).ceil() as u64)
}

/// The `Retry-After` for a waiting client: poll about three times before the expected admission,
/// at least once a second and at most every 30 s, so the front of the line polls often and the
/// back of a long line barely costs anything. The cap stays well below `WAIT_IDLE_SECONDS`, so a
/// client that obeys it is never dropped as idle.
pub fn retry_after_seconds(position: u64, eta: Option<u64>) -> u64 {
    let guess = match eta {
        Some(eta) => eta / 3,
        // No rate observed yet: grow with the distance to the front.
        None => position / 1_000,
    };
    guess.clamp(1, 30)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_follows_the_observed_rate() {
        assert_eq!(eta_seconds(100, Some(50.0)), Some(2));
        assert_eq!(eta_seconds(101, Some(50.0)), Some(3));
        assert_eq!(eta_seconds(1, None), None);
        assert_eq!(eta_seconds(1, Some(0.0)), None);
    }

    #[test]
    fn retry_after_grows_with_distance_and_is_bounded() {
        assert_eq!(retry_after_seconds(1, Some(1)), 1);
        assert!(retry_after_seconds(10_000, Some(100)) > retry_after_seconds(100, Some(1)));
        assert_eq!(retry_after_seconds(1_000_000, Some(10_000)), 30);
        assert_eq!(retry_after_seconds(5, None), 1);
        assert_eq!(retry_after_seconds(20_000, None), 20);
    }
}
