//! The pre-queue's lottery, which anyone can check. Fans who join before the sale opens stand in
//! one random order at the opening, ahead of everyone who comes later; arriving early wins nothing.
//!
//! 1. When the room is created it draws a secret 32-byte seed and publishes its commitment,
//!    SHA-256 of the seed's bytes, in the room's public state.
//! 2. Each place taken in the pre-queue gets the next ticket number. When the pre-queue closes
//!    (the opening), the number of places taken, `tickets`, is fixed: tickets 1 to `tickets`
//!    are the pre-queue's.
//! 3. At the opening each of those tickets gets the key SHA-256(`<seed>:<concertId>:<tickets>:<ticket>`)
//!    (the seed in lowercase hex, numbers in decimal), read as its first 53 bits, and the pre-queue
//!    stands in ascending key order (ties, about one in 10^4 draws of a million, by the ticket
//!    number as text, as Redis orders equal scores). Then the seed is published.
//!
//! The seed is fixed before anyone joins (the commitment shows it was not changed), and `tickets`
//! is fixed only when the pre-queue closes, so neither the operator's seed alone nor a fan's
//! timing decides the order. What it does not stop: an operator who knows the seed and adds
//! places of their own at the last moment can try a few values of `tickets`; every try is a
//! ticket number in the published draw, which shows as a place nobody holds.

use sha2::{Digest, Sha256};

use super::ids::ConcertId;
use super::{Field, ValidationError};

/// A lottery's secret seed.
#[derive(Clone, PartialEq, Eq)]
pub struct Seed([u8; 32]);

/// A seed that is not 64 lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a lottery seed is 64 lowercase hex digits")]
pub struct BadSeed;

impl Seed {
    /// A new seed from the operating system's random source.
    pub fn random() -> Self {
        Seed(rand::random())
    }

    pub fn parse(hex: &str) -> Result<Self, BadSeed> {
        if hex.len() != 64 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(BadSeed);
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| BadSeed)?;
        }
        Ok(Seed(bytes))
    }

    pub fn hex(&self) -> String {
        hex(&self.0)
    }

    /// What the room publishes before the draw: SHA-256 of the seed's 32 bytes, in hex.
    pub fn commitment(&self) -> String {
        hex(&Sha256::digest(self.0))
    }
}

impl std::fmt::Debug for Seed {
    /// Never printed: a seed in a log before the opening would let its reader predict the draw.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seed(..)")
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The rule, as the public lottery states it for whoever checks.
pub const RULE: &str = "key(t) = first 53 bits of SHA-256(\"<seed>:<concertId>:<tickets>:<t>\") for t = 1..tickets; \
                        the pre-queue stands in ascending key order, equal keys by t as text; commitment = SHA-256(seed bytes)";

/// One ticket's key: the first 53 bits of its hash, exact as a Redis score once divided by 2^53.
pub fn key(seed: &Seed, concert: &ConcertId, tickets: u64, ticket: u64) -> u64 {
    let mut hasher = Sha256::new();
    hasher.update(seed.hex().as_bytes());
    hasher.update(format!(":{}:{tickets}:{ticket}", concert.as_str()).as_bytes());
    let digest = hasher.finalize();
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) >> 11
}

/// A key as the score the line orders by: in [0, 1), below every ticket number.
pub fn score(key: u64) -> f64 {
    key as f64 / (1u64 << 53) as f64
}

/// Every pre-queue ticket with its key, in the order the lottery puts them.
pub fn draw(seed: &Seed, concert: &ConcertId, tickets: u64) -> Vec<(u64, u64)> {
    let prefix = format!("{}:{}:{tickets}:", seed.hex(), concert.as_str());
    let base = Sha256::new().chain_update(prefix.as_bytes());
    let mut order: Vec<(u64, u64)> = (1..=tickets)
        .map(|t| {
            let digest = base.clone().chain_update(itoa::Buffer::new().format(t).as_bytes()).finalize();
            (u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) >> 11, t)
        })
        .collect();
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| itoa::Buffer::new().format(a.1).cmp(itoa::Buffer::new().format(b.1))));
    order.into_iter().map(|(k, t)| (t, k)).collect()
}

/// A page of the published order: `limit` tickets from rank `offset` (0 is the first admitted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderPage {
    pub offset: u64,
    pub limit: u64,
}

impl OrderPage {
    /// The most tickets one page lists (about 80 KB of JSON).
    pub const MAX: u64 = 10_000;

    /// `offset` (default 0) and `limit` (default and most [`OrderPage::MAX`]) as the query gives them.
    pub fn parse(offset: Option<&str>, limit: Option<&str>) -> Result<Self, ValidationError> {
        let number = |raw: Option<&str>, default: u64, min: u64, max: u64, name: &str| match raw {
            None => Ok(default),
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(ValidationError::new(Field::Page, format!("{name} must be a whole number from {min} to {max}"))),
            },
        };
        Ok(OrderPage {
            offset: number(offset, 0, 0, u64::from(u32::MAX), "offset")?,
            limit: number(limit, Self::MAX, 1, Self::MAX, "limit")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn concert() -> ConcertId {
        ConcertId::parse("0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn a_seed_round_trips_through_hex_and_commits_to_its_bytes() {
        let seed = Seed::random();
        assert_eq!(Seed::parse(&seed.hex()).unwrap(), seed);
        assert_eq!(Seed::parse(&"00".repeat(32)).unwrap().commitment(), "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
        for bad in ["", "00", &"0G".repeat(32), &"AA".repeat(32), &"0".repeat(65)] {
            assert_eq!(Seed::parse(bad), Err(BadSeed), "{bad}");
        }
        assert_eq!(format!("{seed:?}"), "Seed(..)");
    }

    #[test]
    fn the_draw_orders_every_ticket_by_its_published_key() {
        let seed = Seed::parse(&"ab".repeat(32)).unwrap();
        let order = draw(&seed, &concert(), 1_000);
        assert_eq!(order.len(), 1_000);
        let mut tickets: Vec<u64> = order.iter().map(|&(t, _)| t).collect();
        assert!(order.windows(2).all(|w| w[0].1 <= w[1].1));
        for &(t, k) in &order {
            assert_eq!(k, key(&seed, &concert(), 1_000, t));
            assert!(score(k) < 1.0);
        }
        tickets.sort_unstable();
        assert_eq!(tickets, (1..=1_000).collect::<Vec<_>>());
        // A known vector, for verifiers written in other languages (local/verify-lottery).
        assert_eq!(key(&seed, &concert(), 1_000, 1), 0x0014_50b5_ee6f_6df6);
    }

    #[test]
    fn an_order_page_is_bounded() {
        assert_eq!(OrderPage::parse(None, None), Ok(OrderPage { offset: 0, limit: OrderPage::MAX }));
        assert_eq!(OrderPage::parse(Some("20000"), Some("5")), Ok(OrderPage { offset: 20_000, limit: 5 }));
        for (offset, limit) in [(Some("-1"), None), (Some("x"), None), (None, Some("0")), (None, Some("10001"))] {
            assert_eq!(OrderPage::parse(offset, limit).unwrap_err().field, Field::Page);
        }
    }

    #[test]
    fn another_seed_or_another_count_of_places_gives_another_order() {
        let (a, b) = (Seed::random(), Seed::random());
        let first = |s: &Seed, n| draw(s, &concert(), n).iter().take(20).map(|&(t, _)| t).collect::<Vec<_>>();
        assert_ne!(first(&a, 1_000), first(&b, 1_000));
        assert_ne!(first(&a, 1_000), first(&a, 1_001));
    }
}
