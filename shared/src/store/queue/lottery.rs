//! The pre-queue's lottery (`domain/lottery.rs`) as the room keeps it: the seed and its commitment
//! in the settings from the room's creation, the draw at the opening, and what everyone may read
//! of it.
//!
//! The draw runs in the admission schedule, not in a script: a million keys are a million SHA-256
//! hashes, which Lua cannot do (Redis gives it SHA-1 only) and which would hold Redis for seconds.
//! The tick script marks the room opened, so the pre-queue's count of places is final, and asks
//! for the draw (`room_tick.lua`); the store writes each place's key as its score in steps of
//! [`DRAW_STEP`] and the published order beside it, then sets `lotteryDrawnAt`, and only then does
//! the tick admit anyone. Drawing again writes the same scores (same seed, same count), so a
//! schedule that overlaps or dies half-way is harmless: the next tick draws again from the start.

use fred::prelude::*;
use fred::types::Value;

use super::super::{StoreError, StoreResult};
use super::QueueStore;
use crate::domain::ids::ConcertId;
use crate::domain::lottery::{self, OrderPage, Seed};

/// Places one command re-scores: each moves its members in the line's skiplist (3.5 µs apiece
/// at 100,000 places, 5.5 µs at a million: `LOTTERY=1 bench-queue`), so a step holds Redis for a
/// few milliseconds, as an admission step (`ADMIT_STEP`, also 1,000) does, whatever the
/// pre-queue's size.
const DRAW_STEP: usize = 1_000;

/// Bytes per ticket number in the published order (big-endian).
const ORDER_WIDTH: usize = 4;

/// A room's lottery as everyone may see it.
#[derive(Clone, Debug, PartialEq)]
pub struct PublicLottery {
    /// SHA-256 of the seed's bytes, in hex.
    pub commitment: String,
    /// When the commitment was first published (the room's creation).
    pub committed_at_ms: u64,
    /// Published once the room has opened: drawn, or nobody came to the pre-queue.
    pub seed: Option<String>,
    /// The pre-queue's places, 1 to `tickets`; `None` before the opening or when nobody came.
    pub tickets: Option<u64>,
    pub drawn_at_ms: Option<u64>,
    /// The drawn order from `offset`: ticket numbers, first admitted first.
    pub order: Vec<u64>,
    pub offset: u64,
}

impl QueueStore {
    /// The fields a new room's settings start with: its seed and the commitment to it.
    pub(super) fn new_lottery(now_ms: u64) -> Vec<(&'static str, String)> {
        let seed = Seed::random();
        vec![("lotterySeed", seed.hex()), ("lotteryCommitment", seed.commitment()), ("lotteryCommittedAt", now_ms.to_string())]
    }

    /// Draws the opening's lottery of a room the tick found opened with a pre-queue (see the
    /// module's comment): every pre-queue place still waiting gets its key as its score, and the
    /// order is published. Safe to run again or concurrently.
    pub async fn draw_lottery(&self, concert: &ConcertId, now_ms: u64) -> StoreResult<()> {
        let k = &self.redis.keys;
        let settings = k.room_settings(concert);
        let fields = vec!["lotterySeed", "lotteryTickets", "lotteryDrawnAt"];
        let (seed, tickets, drawn): (Option<String>, Option<u64>, Option<u64>) = self.redis.client().hmget(&settings, fields).await?;
        let Some(tickets) = tickets.filter(|_| drawn.is_none()) else { return Ok(()) };
        let seed = match seed {
            Some(seed) => seed,
            // A room made before rooms had a lottery: it commits now, and says when.
            None => {
                let fields = Self::new_lottery(now_ms);
                let pipe = self.redis.client().pipeline();
                for (field, value) in fields {
                    pipe.hsetnx::<(), _, _, _>(&settings, field, value).await?;
                }
                pipe.hget::<(), _, _>(&settings, "lotterySeed").await?;
                let mut answers: Vec<Value> = pipe.all().await?;
                answers.pop().and_then(|v| v.as_string()).ok_or_else(|| StoreError::Unexpected("lottery seed vanished".into()))?
            }
        };
        let seed = Seed::parse(&seed).map_err(|e| StoreError::Unexpected(format!("room {concert}: {e}")))?;
        let order = lottery::draw(&seed, concert, tickets);
        let waiting = k.room_waiting(concert);
        let published = k.room_draw(concert);
        for (step, chunk) in order.chunks(DRAW_STEP).enumerate() {
            // XX: a place whose fan left (or was dropped) stays gone.
            let scores: Vec<(f64, Value)> = chunk.iter().map(|&(t, key)| (lottery::score(key), Value::from(t as i64))).collect();
            // 4 bytes a ticket: a pre-queue of 4 billion places would need 4 billion fans first.
            let bytes: Vec<u8> = chunk.iter().flat_map(|&(t, _)| (t as u32).to_be_bytes()).collect();
            let pipe = self.redis.client().pipeline();
            pipe.zadd::<(), _, _>(&waiting, Some(SetOptions::XX), None, false, false, scores).await?;
            pipe.setrange::<(), _, _>(&published, (step * DRAW_STEP * ORDER_WIDTH) as u32, bytes).await?;
            let _: Vec<Value> = pipe.all().await?;
        }
        self.redis.client().hsetnx::<(), _, _, _>(&settings, "lotteryDrawnAt", now_ms).await?;
        Ok(())
    }

    /// The room's lottery and up to `limit` (at most [`OrderPage::MAX`]) of its drawn order from
    /// `offset`; `None` for a concert without a room. The seed stays secret until the opening.
    pub async fn lottery(&self, concert: &ConcertId, offset: u64, limit: u64, now_ms: u64) -> StoreResult<Option<PublicLottery>> {
        let k = &self.redis.keys;
        let limit = limit.min(OrderPage::MAX);
        let pipe = self.redis.client().pipeline();
        let fields =
            vec!["lotteryCommitment", "lotteryCommittedAt", "lotterySeed", "lotteryTickets", "lotteryDrawnAt", "opensAt", "opened"];
        pipe.hmget::<(), _, _>(k.room_settings(concert), fields).await?;
        let width = ORDER_WIDTH as u64;
        if limit > 0 {
            pipe.getrange::<(), _>(k.room_draw(concert), (offset * width) as usize, ((offset + limit) * width - 1) as usize).await?;
        }
        let mut answers: Vec<Value> = pipe.all().await?;
        let raw = if limit > 0 { answers.pop().and_then(|v| v.as_bytes().map(<[u8]>::to_vec)).unwrap_or_default() } else { Vec::new() };
        let fields: Vec<Option<String>> = answers.pop().unwrap_or(Value::Null).convert()?;
        let [commitment, committed_at, seed, tickets, drawn_at, opens_at, opened] =
            <[Option<String>; 7]>::try_from(fields).map_err(|f| StoreError::Unexpected(format!("room {concert} answered {f:?}")))?;
        let number =
            |v: Option<String>| v.map(|v| v.parse::<u64>()).transpose().map_err(|e| StoreError::Unexpected(format!("room {concert}: {e}")));
        let Some(opens_at) = number(opens_at)? else { return Ok(None) };
        let drawn_at_ms = number(drawn_at)?;
        let tickets = number(tickets)?;
        let opened = opened.as_deref() == Some("1") || now_ms >= opens_at;
        // Published once drawn, or once open when nobody came early (there is nothing to draw).
        let public = drawn_at_ms.is_some() || (opened && tickets.is_none());
        Ok(Some(PublicLottery {
            commitment: commitment.unwrap_or_default(),
            committed_at_ms: number(committed_at)?.unwrap_or(0),
            seed: seed.filter(|_| public),
            tickets: tickets.filter(|_| drawn_at_ms.is_some()),
            drawn_at_ms,
            order: raw.chunks_exact(ORDER_WIDTH).map(|b| u64::from(u32::from_be_bytes(b.try_into().expect("4 bytes")))).collect(),
            offset,
        }))
    }
}
