//! Signed tokens. Both kinds are `<kind>.<fields>.<signature>` with an HMAC-SHA256 signature over
//! everything before the last dot, so a forged or altered token is rejected without touching Redis.
//!
//! - access token `at.<userId>.<expiresAtSeconds>.<sig>`: who the caller is, until it expires.
//! - queue token `qt.<userId>.<concertId>.<ticket>.<sig>`: a place in one concert's waiting room.
//!   It names its owner, so it is useless to anyone else, and its concert, so it opens no other
//!   concert's seats; whether it is waiting, ACTIVE or ended lives in Redis.
//! - challenge `pow.<concertId>.<expiresAtMs>.<bits>.<salt>.<sig>`: a room's proof-of-work
//!   challenge (`challenge.rs`), checked at the join without Redis.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::challenge::{Challenge, ChallengeError};
use super::ids::{ConcertId, UserId};

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired,
}

/// A place in a concert's waiting room. Ticket numbers are issued in arrival order per room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueTicket {
    pub user: UserId,
    pub concert: ConcertId,
    pub number: u64,
}

#[derive(Clone)]
pub struct TokenSigner {
    mac: Hmac<Sha256>,
}

impl TokenSigner {
    pub fn new(secret: &[u8]) -> Self {
        Self { mac: Hmac::new_from_slice(secret).expect("HMAC takes keys of any length") }
    }

    fn sign(&self, payload: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(payload.as_bytes());
        format!("{payload}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }

    /// Checks the signature and returns the `N` fields between the kind and the signature.
    fn open<'t, const N: usize>(&self, kind: &str, token: &'t str) -> Result<[&'t str; N], TokenError> {
        let (payload, sig) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let mut parts = payload.split('.');
        if parts.next() != Some(kind) {
            return Err(TokenError::Malformed);
        }
        let fields: Vec<&str> = parts.collect();
        let fields: [&str; N] = fields.try_into().map_err(|_| TokenError::Malformed)?;
        let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac.clone();
        mac.update(payload.as_bytes());
        mac.verify_slice(&sig).map_err(|_| TokenError::BadSignature)?;
        Ok(fields)
    }

    pub fn access_token(&self, user: &UserId, expires_at_secs: u64) -> String {
        self.sign(&format!("at.{user}.{expires_at_secs}"))
    }

    pub fn verify_access(&self, token: &str, now_secs: u64) -> Result<UserId, TokenError> {
        let [user, exp] = self.open("at", token)?;
        let exp: u64 = exp.parse().map_err(|_| TokenError::Malformed)?;
        if exp <= now_secs {
            return Err(TokenError::Expired);
        }
        UserId::parse(user).map_err(|_| TokenError::Malformed)
    }

    pub fn challenge(&self, c: &Challenge) -> String {
        self.sign(&format!("pow.{}.{}.{}.{}", c.concert, c.expires_at_ms, c.bits, c.salt))
    }

    /// The challenge a token names, if this service signed it. Whether it is solved, current and
    /// for the right concert is [`Challenge::check`]'s.
    pub fn open_challenge(&self, token: &str) -> Result<Challenge, ChallengeError> {
        let [concert, expires, bits, salt] = self.open("pow", token).map_err(|_| ChallengeError::Invalid)?;
        let invalid = |_| ChallengeError::Invalid;
        Ok(Challenge {
            concert: ConcertId::parse(concert).map_err(|_| ChallengeError::Invalid)?,
            expires_at_ms: expires.parse().map_err(invalid)?,
            bits: bits.parse().map_err(|_| ChallengeError::Invalid)?,
            salt: salt.to_owned(),
        })
    }

    pub fn queue_token(&self, ticket: &QueueTicket) -> String {
        self.sign(&format!("qt.{}.{}.{}", ticket.user, ticket.concert, ticket.number))
    }

    pub fn verify_queue(&self, token: &str) -> Result<QueueTicket, TokenError> {
        let [user, concert, number] = self.open("qt", token)?;
        Ok(QueueTicket {
            user: UserId::parse(user).map_err(|_| TokenError::Malformed)?,
            concert: ConcertId::parse(concert).map_err(|_| TokenError::Malformed)?,
            number: number.parse().map_err(|_| TokenError::Malformed)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> TokenSigner {
        TokenSigner::new(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn access_tokens_round_trip_until_they_expire() {
        let user = UserId::random();
        let token = signer().access_token(&user, 1_000);
        assert_eq!(signer().verify_access(&token, 999), Ok(user));
        assert_eq!(signer().verify_access(&token, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn altered_or_foreign_tokens_are_rejected() {
        let user = UserId::random();
        let token = signer().access_token(&user, 1_000);
        let other = UserId::random();
        let forged = token.replace(user.as_str(), other.as_str());
        assert_eq!(signer().verify_access(&forged, 1), Err(TokenError::BadSignature));
        let stranger = TokenSigner::new(b"another secret of thirty-two bytes!!");
        assert_eq!(stranger.verify_access(&token, 1), Err(TokenError::BadSignature));
        assert_eq!(signer().verify_access("garbage", 1), Err(TokenError::Malformed));
        assert_eq!(signer().verify_access("at.a.b.c.d", 1), Err(TokenError::Malformed));
    }

    #[test]
    fn a_queue_token_is_not_an_access_token() {
        let ticket = QueueTicket { user: UserId::random(), concert: ConcertId::random(), number: 42 };
        let token = signer().queue_token(&ticket);
        assert_eq!(signer().verify_queue(&token), Ok(ticket));
        assert_eq!(signer().verify_access(&token, 1), Err(TokenError::Malformed));
    }
}
