//! Presale codes: a room can be made presale-only (`presale: true`), and then a new place needs a
//! code the operator loaded or generated for it. A code is bound to the first account that
//! redeems it: any other account is refused, and the same account may use it again (its place
//! comes back, or a new one if it left). Codes are stored per room (`{r:C}:codes`) and checked by
//! the join script, so one code is one account under any concurrency.

use super::{Field, ValidationError};

/// The alphabet of generated codes: Crockford's base 32 (no I, L, O or U, so nothing reads as
/// another character when a fan types it).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters of a generated code: 50 random bits, so guessing one of a stadium's 100,000 codes
/// takes about 10^10 tries.
pub const GENERATED_LEN: usize = 10;

/// The most codes one request may load or generate.
pub const MAX_CODES_PER_REQUEST: usize = 100_000;

/// A presale code as stored: upper case, without the spaces and dashes people type, 4 to 32 of
/// `A-Z` and `0-9`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PresaleCode(String);

impl PresaleCode {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let code: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).map(|c| c.to_ascii_uppercase()).collect();
        if !(4..=32).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
            return Err(ValidationError::new(
                Field::PresaleCode,
                "a presale code is 4 to 32 letters and digits (spaces and dashes are ignored)",
            ));
        }
        Ok(PresaleCode(code))
    }

    /// A new random code of [`GENERATED_LEN`] characters.
    pub fn generate() -> Self {
        let bytes: [u8; GENERATED_LEN] = rand::random();
        PresaleCode(bytes.iter().map(|b| ALPHABET[usize::from(b % 32)] as char).collect())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `POST /admin/concerts/{id}/codes`: codes to load, or how many to generate (one of the two).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodesRequest {
    pub codes: Option<Vec<String>>,
    pub generate: Option<i64>,
}

/// What a valid [`CodesRequest`] asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewCodes {
    Load(Vec<PresaleCode>),
    Generate(usize),
}

impl CodesRequest {
    pub fn validate(self) -> Result<NewCodes, ValidationError> {
        let bad = |message: String| ValidationError::new(Field::PresaleCodes, message);
        match (self.codes, self.generate) {
            (Some(codes), None) => {
                if codes.is_empty() || codes.len() > MAX_CODES_PER_REQUEST {
                    return Err(bad(format!("codes must list 1 to {MAX_CODES_PER_REQUEST} codes")));
                }
                Ok(NewCodes::Load(codes.iter().map(|c| PresaleCode::parse(c)).collect::<Result<_, _>>()?))
            }
            (None, Some(n)) if (1..=MAX_CODES_PER_REQUEST as i64).contains(&n) => Ok(NewCodes::Generate(n as usize)),
            (None, Some(_)) => Err(bad(format!("generate must be from 1 to {MAX_CODES_PER_REQUEST}"))),
            _ => Err(bad("send either codes (a list) or generate (a number)".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_as_people_type_them() {
        assert_eq!(PresaleCode::parse(" ab12-cd34 ").unwrap().as_str(), "AB12CD34");
        for bad in ["", "abc", "ab!12345", &"A".repeat(33), "ÄBCD"] {
            assert!(PresaleCode::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn generated_codes_parse_and_differ() {
        let a = PresaleCode::generate();
        assert_eq!(a.as_str().len(), GENERATED_LEN);
        assert_eq!(PresaleCode::parse(a.as_str()).unwrap(), a);
        assert!(!a.as_str().contains(['I', 'L', 'O', 'U']));
        let many: std::collections::HashSet<_> = (0..10_000).map(|_| PresaleCode::generate()).collect();
        assert_eq!(many.len(), 10_000);
    }

    #[test]
    fn a_request_loads_or_generates_within_the_limit() {
        let load = CodesRequest { codes: Some(vec!["abcd-1234".into()]), generate: None }.validate().unwrap();
        assert_eq!(load, NewCodes::Load(vec![PresaleCode::parse("ABCD1234").unwrap()]));
        assert_eq!(CodesRequest { codes: None, generate: Some(100_000) }.validate().unwrap(), NewCodes::Generate(100_000));
        for bad in [
            CodesRequest::default(),
            CodesRequest { codes: Some(vec![]), generate: None },
            CodesRequest { codes: None, generate: Some(0) },
            CodesRequest { codes: None, generate: Some(100_001) },
            CodesRequest { codes: Some(vec!["ABCD1234".into()]), generate: Some(1) },
            CodesRequest { codes: Some(vec!["no".into()]), generate: None },
        ] {
            assert!(bad.validate().is_err());
        }
    }
}
