//! A room's presale codes (`add_codes.lua`): loading or generating them. The join script binds a
//! code to the first account that brings it (`join_room.lua`); the operator's view counts them.

use super::super::script::{lua_source, FromReply, Reply, Script};
use super::super::{Keys, Rejection, StoreResult};
use super::QueueStore;
use crate::domain::ids::ConcertId;
use crate::domain::presale::PresaleCode;

/// Codes one script call adds: a stadium's batch (100,000) takes ten calls, none of them holding
/// Redis for more than a few milliseconds.
const CODES_PER_CALL: usize = 10_000;

/// What loading codes did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodesAdded {
    /// New codes (one already there is kept as it was, with its owner).
    pub added: u64,
    /// Codes the room has now.
    pub issued: u64,
}

/// `add_codes.lua`: adds a chunk of codes to a room.
pub(super) struct AddCodes<'a> {
    pub concert: &'a ConcertId,
    pub codes: &'a [PresaleCode],
}

impl Script for AddCodes<'_> {
    type Reply = Option<CodesAdded>;
    const KEYS: &'static [&'static str] = &["settings_key", "codes_key"];
    const ARGS: &'static [&'static str] = &["codes"];
    lua_source!("add_codes");

    fn keys(&self, k: &Keys) -> Vec<String> {
        vec![k.room_settings(self.concert), k.room_codes(self.concert)]
    }

    fn args(&self) -> Vec<String> {
        vec![self.codes.iter().map(PresaleCode::as_str).collect::<Vec<_>>().join(",")]
    }
}

/// `add_codes.lua`'s answer: `None` when there is no such room.
impl FromReply for Option<CodesAdded> {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        Ok(match reply.text()?.as_str() {
            "OK" => Some(CodesAdded { added: reply.number()?, issued: reply.number()? }),
            "NO_ROOM" => None,
            _ => return Err(reply.unexpected()),
        })
    }
}

impl QueueStore {
    /// Adds `codes` to `concert`'s room, a chunk per call. Safe to repeat: a code already there
    /// keeps its owner.
    pub async fn add_codes(&self, concert: &ConcertId, codes: &[PresaleCode]) -> StoreResult<CodesAdded> {
        let mut total = CodesAdded { added: 0, issued: 0 };
        for chunk in codes.chunks(CODES_PER_CALL) {
            let done = self.redis.run(&AddCodes { concert, codes: chunk }).await?.ok_or(Rejection::ConcertNotFound)?;
            total = CodesAdded { added: total.added + done.added, issued: done.issued };
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::script::assert_binds;

    #[test]
    fn add_codes_sends_what_its_lua_binds() {
        assert_binds::<AddCodes>();
    }
}
