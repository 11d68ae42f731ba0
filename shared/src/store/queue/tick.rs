//! The admission tick of one room (`room_tick.lua`): moves fans from the line to ACTIVE within the
//! room's settings and the seats left, expires ACTIVE slots, drops absent fans, and tells the line
//! when the show sells out.

use super::super::script::{lua_source, FromReply, Reply, Script};
use super::super::{Keys, StoreError, StoreResult};
use super::LoggedDecision;
use super::QueueStore;
use crate::domain::challenge::Door;
use crate::domain::forecast::{ENGAGED_MS, NO_SHOW_PRIOR_FANS, NO_SHOW_SHARE_PRIOR};
use crate::domain::ids::ConcertId;
use crate::domain::queue::{admitted_seen_ms, Inventory, PRIOR_FANS, SEATS_PER_FAN_PRIOR};

/// What ends the last-seen time a tick gives the tickets it admits (`room_tick.lua`): no sighting
/// has it, so a ticket not seen since its admission is told apart from one seen and gone.
pub(super) const NOT_SEEN_MARK: &str = ".5";
use crate::domain::report::seconds_buckets_text;

/// The environment's admission settings: the defaults of every room an operator has not tuned,
/// and the lifetimes that apply to all.
#[derive(Clone, Copy, Debug)]
pub struct Admission {
    pub admit_per_tick: u64,
    pub active_cap: u64,
    pub overbooking: f64,
    pub active_ttl_ms: u64,
    pub wait_idle_ms: u64,
    /// A place unseen this long is dropped wherever it stands (`WAIT_ABANDON_SECONDS`).
    pub wait_abandon_ms: u64,
    pub tick_ms: u64,
    /// How long a hold lasts (`HOLD_SECONDS`), for the forecast of when holds lapse.
    pub hold_ms: u64,
    /// The most tickets one call of the tick script moves (`ADMIT_STEP`).
    pub step: u64,
    /// An ACTIVE fan not seen on the booking path this long gives the slot back
    /// (`ACTIVE_IDLE_SECONDS`).
    pub active_idle_ms: u64,
    /// Whether rooms that have not chosen run on the autopilot (`AUTOPILOT`).
    pub autopilot: bool,
    /// The booking path's p95 the autopilot aims at, for rooms without their own (`TARGET_P95_MS`).
    pub target_p95_ms: u64,
    /// The door's proof of work, for rooms without their own (`POW_MIN_BITS`, `POW_MAX_BITS`).
    pub door: Door,
}

/// What one admission tick of one room did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    /// False when another invocation already ran this tick number.
    pub ran: bool,
    pub admitted: u64,
    pub expired_active: u64,
    pub dropped_idle: u64,
    pub still_waiting: u64,
    pub active: u64,
    /// This tick found every seat sold, told the line and released the ACTIVE slots.
    pub sold_out_now: bool,
    /// How many calls of `room_tick.lua` the tick took (each moves at most one step of tickets).
    pub steps: u64,
    /// The script's answer: the tick has admissions left, call again.
    more: bool,
}

impl TickReport {
    /// Adds a later step's answer to the tick's report.
    fn add_step(&mut self, step: TickReport) {
        self.admitted += step.admitted;
        self.dropped_idle += step.dropped_idle;
        self.still_waiting = step.still_waiting;
        self.active = step.active;
        self.steps += 1;
        self.more = step.more;
    }
}

/// `room_tick.lua`: one step of one room's tick.
pub(super) struct RoomTick<'a> {
    pub concert: &'a ConcertId,
    /// The start of this tick's period (epoch ms; see `schedule::tick_start`).
    pub tick: u64,
    pub now_ms: u64,
    pub admission: Admission,
    pub inventory: Inventory,
    /// The autopilot's decision for this tick, when the room runs on it.
    pub decision: Option<&'a LoggedDecision>,
}

/// One call of `room_tick.lua`: a step of the tick, or the opening's lottery to draw first.
pub(super) enum TickStep {
    Ran(TickReport),
    Draw,
}

impl Script for RoomTick<'_> {
    type Reply = TickStep;
    const KEYS: &'static [&'static str] =
        &["waiting_key", "fans_key", "active_key", "holder_key", "stats_key", "settings_key", "seq_key", "seen_key", "decisions_key"];
    const ARGS: &'static [&'static str] = &[
        "tick_start_ms",
        "now_ms",
        "default_admit_per_tick",
        "default_active_cap",
        "default_overbooking",
        "active_ttl_ms",
        "abandon_cutoff_ms",
        "tick_ms",
        "step_text",
        "available_seats",
        "fans_holding",
        "sold_out",
        "present_cutoff_ms",
        "autopilot_limit",
        "decision_json",
        "active_idle_cutoff_ms",
        "admitted_seen_ms",
        "sold_seats",
        "held_seats",
        "seats_per_fan_prior",
        "prior_fans",
        "wait_buckets",
        "engaged_ms",
        "no_show_prior",
        "no_show_prior_fans",
        "holds_to_sell",
    ];
    lua_source!("room_tick");

    fn keys(&self, k: &Keys) -> Vec<String> {
        let c = self.concert;
        vec![
            k.room_waiting(c),
            k.room_fans(c),
            k.room_active(c),
            k.room_holder(c),
            k.room_stats(c),
            k.room_settings(c),
            k.room_seq(c),
            k.room_seen(c),
            k.room_decisions(c),
        ]
    }

    fn args(&self) -> Vec<String> {
        let (a, now_ms, inventory) = (&self.admission, self.now_ms, &self.inventory);
        vec![
            self.tick.to_string(),
            now_ms.to_string(),
            a.admit_per_tick.to_string(),
            a.active_cap.to_string(),
            a.overbooking.to_string(),
            a.active_ttl_ms.to_string(),
            now_ms.saturating_sub(a.wait_abandon_ms.max(a.wait_idle_ms)).to_string(),
            a.tick_ms.to_string(),
            a.step.max(1).to_string(),
            inventory.available().to_string(),
            inventory.fans_holding.to_string(),
            if inventory.sold_out() { "1" } else { "0" }.to_string(),
            now_ms.saturating_sub(a.wait_idle_ms).to_string(),
            self.decision.map(|d| d.decision.limit.to_string()).unwrap_or_default(),
            self.decision.map(|d| serde_json::to_string(d).expect("a decision serializes")).unwrap_or_default(),
            now_ms.saturating_sub(a.active_idle_ms).to_string(),
            format!("{}{NOT_SEEN_MARK}", admitted_seen_ms(now_ms, a.active_idle_ms)),
            inventory.sold.to_string(),
            inventory.held.to_string(),
            SEATS_PER_FAN_PRIOR.to_string(),
            PRIOR_FANS.to_string(),
            seconds_buckets_text().to_owned(),
            ENGAGED_MS.to_string(),
            NO_SHOW_SHARE_PRIOR.to_string(),
            NO_SHOW_PRIOR_FANS.to_string(),
            inventory.holds_to_sell.map(|seats| seats.to_string()).unwrap_or_default(),
        ]
    }
}

/// `room_tick.lua`'s answer.
impl FromReply for TickStep {
    fn from_reply(reply: &mut Reply) -> StoreResult<Self> {
        if reply.peek_text().as_deref() == Some("DRAW") {
            reply.text()?;
            return Ok(TickStep::Draw);
        }
        Ok(TickStep::Ran(TickReport {
            ran: bool::from_reply(reply)?,
            admitted: reply.number()?,
            expired_active: reply.number()?,
            dropped_idle: reply.number()?,
            still_waiting: reply.number()?,
            active: reply.number()?,
            sold_out_now: bool::from_reply(reply)?,
            steps: 1,
            more: bool::from_reply(reply)?,
        }))
    }
}

impl QueueStore {
    /// Runs the admission tick of one room whose period starts at `tick` (epoch ms; see
    /// `schedule::tick_start`), knowing its `inventory`, in calls that each move at most
    /// `admission.step` tickets (see `room_tick.lua`): between them Redis serves everyone else.
    /// Overlapping callers share the tick's stored budget, so the tick admits its exact total
    /// once; a tick not after the last one run does nothing. With the autopilot's `decision`, the
    /// tick admits at most its limit and logs it. The first tick after the opening of a room whose
    /// pre-queue took places draws the lottery first (see [`QueueStore::draw_lottery`]).
    pub async fn tick(
        &self,
        concert: &ConcertId,
        tick: u64,
        now_ms: u64,
        admission: Admission,
        inventory: Inventory,
        decision: Option<&LoggedDecision>,
    ) -> StoreResult<TickReport> {
        let script = RoomTick { concert, tick, now_ms, admission, inventory, decision };
        let started = std::time::Instant::now();
        let mut report = match self.redis.run(&script).await? {
            TickStep::Ran(report) => report,
            TickStep::Draw => {
                self.draw_lottery(concert, now_ms).await?;
                self.step(&script).await?
            }
        };
        // Each step takes tickets off the line or ends the tick, so this ends. The room's own
        // settings (which may be far above the environment's) decide how many steps; the period
        // bounds them, as the next tick starts afresh anyway.
        while report.more && started.elapsed().as_millis() < u128::from(admission.tick_ms) {
            report.add_step(self.step(&script).await?);
        }
        Ok(report)
    }

    /// A step of a tick whose lottery is drawn.
    async fn step(&self, script: &RoomTick<'_>) -> StoreResult<TickReport> {
        match self.redis.run(script).await? {
            TickStep::Ran(report) => Ok(report),
            TickStep::Draw => Err(StoreError::Unexpected(format!("room {} asked for its lottery again once drawn", script.concert))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_tick_sends_what_its_lua_binds() {
        super::super::super::script::assert_binds::<RoomTick>();
    }
}
