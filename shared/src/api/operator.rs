//! What operators read: a room live, the answer to a change, the sales report.

use serde::Serialize;

use crate::domain::ids::ConcertId;
use crate::domain::models::{rfc3339, SaleWindow};
use crate::domain::queue::{eta_seconds, RoomStatus};
use crate::store::flows::RoomView;
use crate::store::outbox::ScheduleSales;
use crate::store::queue::{Admission, LoggedDecision, HEALTH_SECONDS};

/// `GET /admin/concerts/{id}/room`: a room as its operator watches it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomReport {
    pub concert_id: ConcertId,
    pub title: String,
    pub status: RoomStatus,
    pub sale: SaleWindow,
    /// What applies from the next tick: the room's own settings, or the environment's.
    pub admit_per_tick: u64,
    pub active_cap: u64,
    pub overbooking: f64,
    pub paused: bool,
    /// The door's proof-of-work bounds (`powMaxBits` 0: open to all).
    pub pow_min_bits: u8,
    pub pow_max_bits: u8,
    /// Presale-only: a new place needs one of the room's codes.
    pub presale: bool,
    pub codes_issued: u64,
    pub codes_redeemed: u64,
    pub waiting: u64,
    pub active: u64,
    pub admitted_total: u64,
    pub dropped_total: u64,
    pub admitted_per_second: Option<f64>,
    pub oldest_wait_seconds: Option<u64>,
    /// When the last fan in line would be admitted at the observed rate.
    pub last_in_line_eta_seconds: Option<u64>,
    pub seats: SeatCounts,
    pub sold_out_at: Option<String>,
    /// How many waiting fans the sold-out tick told.
    pub sold_out_waiting: Option<u64>,
    /// The last operator changes, newest first, each with its old and new values.
    pub changes: Vec<serde_json::Value>,
    /// ACTIVE slots given back by fans who went idle (`ACTIVE_IDLE_SECONDS`) since the opening.
    pub idle_active_total: u64,
    pub autopilot: AutopilotReport,
}

/// The autopilot as the operator watches it: the switch, the target, the booking path's health
/// over the last seconds, and the last decisions (inputs, output, reason), newest first.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AutopilotReport {
    pub on: bool,
    pub target_p95_ms: u64,
    /// The admission per tick it set last (`None` before its first decision).
    pub limit: Option<u64>,
    /// The booking path over the last few seconds: its p95 (from the histogram), 5xx share and
    /// answers.
    pub measured_p95_ms: Option<f64>,
    pub error_rate: f64,
    pub answers: u64,
    pub window_seconds: u64,
    pub decisions: Vec<LoggedDecision>,
}

#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatCounts {
    pub total: u64,
    pub available: u64,
    pub held: u64,
    pub sold: u64,
}

impl RoomReport {
    /// `view` at `now_ms`, with the environment's `defaults` for what the room has not set.
    pub fn new(view: RoomView, now_ms: u64, defaults: Admission) -> RoomReport {
        let RoomView { concert, snapshot: s, inventory } = view;
        let settings = s.settings.clone();
        let door = settings.door(defaults.door);
        RoomReport {
            status: settings.status(now_ms, concert.last_start_ms()),
            concert_id: concert.concert_id,
            title: concert.title,
            sale: SaleWindow { prequeue_opens_at: rfc3339(settings.prequeue_opens_at_ms), opens_at: rfc3339(settings.opens_at_ms) },
            admit_per_tick: settings.admit_per_tick.unwrap_or(defaults.admit_per_tick),
            active_cap: settings.active_cap.unwrap_or(defaults.active_cap),
            overbooking: settings.overbooking.unwrap_or(defaults.overbooking),
            paused: settings.paused,
            pow_min_bits: door.min_bits,
            pow_max_bits: door.max_bits,
            presale: settings.presale,
            codes_issued: s.codes_issued,
            codes_redeemed: s.codes_redeemed,
            waiting: s.waiting,
            active: s.active,
            admitted_total: s.admitted_total,
            dropped_total: s.dropped_total,
            admitted_per_second: s.ahead.admitted_per_second,
            oldest_wait_seconds: s.oldest_wait_ms.map(|ms| ms / 1000),
            last_in_line_eta_seconds: eta_seconds(s.waiting, s.admitted_total + s.waiting, now_ms, &s.ahead),
            seats: SeatCounts { total: inventory.seats, available: inventory.available(), held: inventory.held, sold: inventory.sold },
            sold_out_at: s.sold_out_at_ms.map(rfc3339),
            sold_out_waiting: s.sold_out_waiting,
            changes: s.changes,
            idle_active_total: s.idle_active_total,
            autopilot: AutopilotReport {
                on: settings.autopilot.unwrap_or(defaults.autopilot),
                target_p95_ms: settings.target_p95_ms.unwrap_or(defaults.target_p95_ms),
                limit: s.decisions.first().map(|d| d.decision.limit),
                measured_p95_ms: s.health.p95_ms(),
                error_rate: s.health.error_rate(),
                answers: s.health.answers,
                window_seconds: HEALTH_SECONDS,
                decisions: s.decisions,
            },
        }
    }
}

/// `PATCH /admin/concerts/{id}/room`: the logged change and the room after it.
#[derive(Debug, Serialize)]
pub struct RoomChangedBody {
    pub change: serde_json::Value,
    pub room: RoomReport,
}

/// `GET /admin/sales`: the totals over every schedule, then each schedule.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesReportBody {
    pub sold_seats: u64,
    pub revenue: u64,
    pub seat_map_sold: u64,
    pub refunds_due: u64,
    pub schedules: Vec<ScheduleSales>,
}

impl SalesReportBody {
    pub fn new(schedules: Vec<ScheduleSales>) -> Self {
        SalesReportBody {
            sold_seats: schedules.iter().map(|s| s.sold_seats).sum(),
            revenue: schedules.iter().map(|s| s.revenue).sum(),
            seat_map_sold: schedules.iter().map(|s| s.seat_map_sold).sum(),
            refunds_due: schedules.iter().map(|s| s.refunds_due).sum(),
            schedules,
        }
    }
}
