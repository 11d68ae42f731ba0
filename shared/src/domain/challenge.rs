//! The proof of work at a room's door. A fan who wants a place first asks the room for a
//! challenge (`GET /concerts/{id}/challenge`): a token signed with the service's secret naming
//! the concert, an expiry, a difficulty in bits and a random salt. The fan finds a nonce such that
//! SHA-256(`<challenge>:<nonce>`) starts with that many zero bits (2^bits hashes on average) and
//! sends both with the join. Checking costs one hash and the signature, no Redis; the join script
//! then takes the salt once (`{r:C}:pow`), so one solution is one place.
//!
//! A person pays this once, while the page shows progress; a script taking thousands of places
//! pays it thousands of times. The difficulty follows the pressure on the room: the operator's
//! minimum when joins are calm, one more bit each time the joins per second double past
//! [`JOINS_PER_SECOND_PER_BIT`], up to the maximum, and the maximum in the pre-queue, where bots
//! gather and fans have time to spare. A maximum of 0 turns the gate off.

use sha2::{Digest, Sha256};

use super::ids::ConcertId;

/// How long a challenge may be solved and used: long enough for a slow phone at the maximum
/// difficulty, short enough that solutions cannot be stockpiled for the opening.
pub const CHALLENGE_LIFETIME_MS: u64 = 120_000;

/// The most bits a room may ask: 2^32 hashes is minutes of a fast machine's time already.
pub const MAX_BITS: u8 = 32;

/// Joins per second past which the difficulty rises by one bit (and again at each doubling).
pub const JOINS_PER_SECOND_PER_BIT: f64 = 50.0;

/// The longest nonce accepted.
pub const MAX_NONCE_LEN: usize = 64;

/// A challenge as the room issued it (after its signature was checked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub concert: ConcertId,
    pub expires_at_ms: u64,
    /// Leading zero bits the solution's hash must have.
    pub bits: u8,
    /// Random, URL-safe: what the join script takes once.
    pub salt: String,
}

/// Why a solution is refused. Each has its own problem code (`error.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChallengeError {
    #[error("the challenge is not one this service issued")]
    Invalid,
    #[error("the challenge has expired; ask for a new one")]
    Expired,
    #[error("the challenge was issued for another concert")]
    WrongConcert,
    #[error("the nonce does not solve the challenge")]
    Unsolved,
}

impl Challenge {
    /// A new challenge for `concert` at `bits`, valid for [`CHALLENGE_LIFETIME_MS`].
    pub fn issue(concert: &ConcertId, bits: u8, now_ms: u64) -> Self {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
        let salt = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>());
        Challenge { concert: concert.clone(), expires_at_ms: now_ms + CHALLENGE_LIFETIME_MS, bits, salt }
    }

    /// Checks a solution of this (already authenticated) challenge for a join to `concert`.
    pub fn check(&self, token: &str, nonce: &str, concert: &ConcertId, now_ms: u64) -> Result<(), ChallengeError> {
        if &self.concert != concert {
            return Err(ChallengeError::WrongConcert);
        }
        if self.expires_at_ms <= now_ms {
            return Err(ChallengeError::Expired);
        }
        if nonce.is_empty() || nonce.len() > MAX_NONCE_LEN || !solves(token, nonce, self.bits) {
            return Err(ChallengeError::Unsolved);
        }
        Ok(())
    }
}

/// The number of leading zero bits of `hash`.
pub fn leading_zero_bits(hash: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in hash {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// Whether SHA-256(`token:nonce`) starts with `bits` zero bits.
pub fn solves(token: &str, nonce: &str, bits: u8) -> bool {
    let hash = Sha256::new().chain_update(token.as_bytes()).chain_update(b":").chain_update(nonce.as_bytes()).finalize();
    leading_zero_bits(&hash) >= u32::from(bits)
}

/// Finds a nonce for `token` by counting up from `start`: what the fan's page does in a Web
/// Worker, here for tests and for measuring what the gate costs a script.
pub fn solve(token: &str, bits: u8, start: u64) -> String {
    let prefix = Sha256::new().chain_update(token.as_bytes()).chain_update(b":");
    let mut buffer = [0u8; 20];
    (start..)
        .find(|n| {
            let digits = format_u64(*n, &mut buffer);
            leading_zero_bits(&prefix.clone().chain_update(digits).finalize()) >= u32::from(bits)
        })
        .expect("some nonce solves any challenge of at most 32 bits")
        .to_string()
}

/// `n` in decimal, written into `buffer` without allocating.
fn format_u64(mut n: u64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut i = buffer.len();
    loop {
        i -= 1;
        buffer[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buffer[i..];
        }
    }
}

/// A room's door settings: the difficulty's bounds (`powMinBits`, `powMaxBits`). The default,
/// both 0, lets everyone in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Door {
    pub min_bits: u8,
    pub max_bits: u8,
}

impl Door {
    /// Whether joins need a solved challenge.
    pub fn is_open_to_all(&self) -> bool {
        self.max_bits == 0
    }

    /// The difficulty to ask now: the maximum in the pre-queue, otherwise the minimum plus a bit
    /// per doubling of the joins per second past [`JOINS_PER_SECOND_PER_BIT`], capped.
    pub fn bits(&self, joins_per_second: f64, prequeue: bool) -> u8 {
        let (min, max) = (self.min_bits.min(self.max_bits), self.max_bits);
        if prequeue {
            return max;
        }
        let extra = (1.0 + joins_per_second.max(0.0) / JOINS_PER_SECOND_PER_BIT).log2().floor();
        (f64::from(min) + extra).min(f64::from(max)) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_bits_are_counted_from_the_first_byte() {
        assert_eq!(leading_zero_bits(&[0xff]), 0);
        assert_eq!(leading_zero_bits(&[0x00, 0x80]), 8);
        assert_eq!(leading_zero_bits(&[0x00, 0x00, 0x01]), 23);
        assert_eq!(leading_zero_bits(&[0x00, 0x00]), 16);
    }

    #[test]
    fn a_solution_found_by_counting_is_accepted_and_others_are_not() {
        let concert = ConcertId::random();
        let challenge = Challenge::issue(&concert, 12, 1_000);
        let token = "pow.any.token";
        let nonce = solve(token, 12, 0);
        assert!(solves(token, &nonce, 12));
        assert_eq!(challenge.check(token, &nonce, &concert, 2_000), Ok(()));
        // The nonce found first is the smallest: every smaller one fails.
        let found: u64 = nonce.parse().unwrap();
        assert!((0..found).all(|n| !solves(token, &n.to_string(), 12)));
        assert_eq!(challenge.check("pow.another.token", &nonce, &concert, 2_000), Err(ChallengeError::Unsolved));
        assert_eq!(challenge.check(token, "", &concert, 2_000), Err(ChallengeError::Unsolved));
        assert_eq!(challenge.check(token, &"9".repeat(65), &concert, 2_000), Err(ChallengeError::Unsolved));
        assert_eq!(challenge.check(token, &nonce, &ConcertId::random(), 2_000), Err(ChallengeError::WrongConcert));
        assert_eq!(challenge.check(token, &nonce, &concert, 1_000 + CHALLENGE_LIFETIME_MS), Err(ChallengeError::Expired));
    }

    #[test]
    fn decimal_nonces_are_written_like_to_string() {
        let mut buffer = [0u8; 20];
        for n in [0, 7, 10, 99, 12_345, u64::MAX] {
            assert_eq!(format_u64(n, &mut buffer), n.to_string().as_bytes());
        }
    }

    #[test]
    fn the_difficulty_follows_the_pressure_between_the_bounds() {
        let door = Door { min_bits: 16, max_bits: 20 };
        assert_eq!(door.bits(0.0, false), 16);
        assert_eq!(door.bits(49.0, false), 16);
        assert_eq!(door.bits(50.0, false), 17);
        assert_eq!(door.bits(150.0, false), 18);
        assert_eq!(door.bits(350.0, false), 19);
        assert_eq!(door.bits(100_000.0, false), 20, "never above the maximum");
        assert_eq!(door.bits(0.0, true), 20, "the pre-queue asks the maximum");
        assert!(Door { min_bits: 0, max_bits: 0 }.is_open_to_all());
        assert_eq!(Door { min_bits: 24, max_bits: 18 }.bits(0.0, false), 18, "a minimum above the maximum is the maximum");
    }
}
