//! `GET /admin/concerts/{id}/report`: a sale summed up for its operator, as JSON or CSV. What each
//! figure is and how exact it is: `domain/report.rs` and the README's "The report after a sale".

use serde::Serialize;

use super::operator::SeatCounts;
use crate::domain::ids::ConcertId;
use crate::domain::models::rfc3339;
use crate::domain::queue::RoomStatus;
use crate::domain::report::{SecondsHistogram, SECONDS_BUCKETS};
use crate::store::flows::SaleReport;
use crate::store::queue::LoggedDecision;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleReportBody {
    pub concert_id: ConcertId,
    pub title: String,
    pub status: RoomStatus,
    pub generated_at: String,
    pub timeline: Timeline,
    pub seats: SeatCounts,
    /// Seats sold in each minute that sold any, oldest first.
    pub sales_per_minute: Vec<MinuteSales>,
    pub money: Money,
    pub fans: Fans,
    /// Seats sold per fan admitted; `None` before anyone was admitted.
    pub seats_per_admitted_fan: Option<f64>,
    pub queue_wait: QueueWait,
    /// Admission to the payment that ended the fan's token (its last live hold paid).
    pub booking_path: Spread,
    /// Seats whose hold lapsed (or whose payment was voided), and how long paid holds took.
    pub holds: Holds,
    /// Refusals (4xx and 5xx) answered to fans holding a place in the room (their queue token
    /// named it: the queue status, leaving, the booking path), by status and code, most first.
    /// Refusals before a place (sign-up, the door, join limits) are per route in CloudWatch.
    pub errors: Vec<ErrorCount>,
    /// The operator's changes (newest first, the last 50) and the autopilot's decisions (the last 100).
    pub changes: Vec<serde_json::Value>,
    pub autopilot_decisions: Vec<LoggedDecision>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    pub prequeue_opens_at: String,
    pub opens_at: String,
    pub sold_out_at: Option<String>,
    /// From the opening to the sell-out.
    pub seconds_to_sell_out: Option<f64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MinuteSales {
    pub minute: String,
    pub seats: u64,
}

/// From the PaymentCompleted events (the ledger Kafka feeds): behind the seat map by the events
/// still in flight.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub sold_seats: u64,
    pub revenue: u64,
    /// Debited payments whose seat was lost, waiting for an operator's refund.
    pub refunds_due: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fans {
    /// Places taken (a fan who left and came back counts twice).
    pub joined: u64,
    /// Of those, in the pre-queue.
    pub prequeue: u64,
    pub admitted: u64,
    /// Dropped from the line unseen (closed the tab).
    pub dropped_absent: u64,
    /// ACTIVE slots given back idle.
    pub idle_active: u64,
    /// Of those, fans never seen after their admission.
    pub never_showed: u64,
    /// Fans who left the line themselves, and who left once admitted.
    pub left_line: u64,
    pub left_after_admission: u64,
    /// Fans who held a seat, and who bought one: HyperLogLog counts per schedule, within about
    /// 1 %, summed over the schedules (a fan of two counts twice).
    pub held: u64,
    pub bought: u64,
    /// Fans who bought over fans admitted; `None` before anyone was admitted.
    pub conversion: Option<f64>,
    /// Waiting when the room sold out, and told so.
    pub told_sold_out: Option<u64>,
    pub waiting_now: u64,
    pub active_now: u64,
    pub codes_issued: u64,
    pub codes_redeemed: u64,
}

/// Join (or the opening, for the pre-queue) to admission, of every fan admitted. Quantiles are the
/// upper bound of the histogram bucket they fall in; `None` when nobody was admitted, or beyond
/// the last bucket (4 h).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueWait {
    pub admitted: u64,
    pub p50_seconds_at_most: Option<u64>,
    pub p90_seconds_at_most: Option<u64>,
    pub p99_seconds_at_most: Option<u64>,
    pub buckets: Vec<WaitBucket>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCount {
    pub status: u16,
    pub code: String,
    pub count: u64,
}

/// A time's spread, from a histogram (`domain::report`): each quantile is the upper bound of its
/// bucket; `None` when nothing was counted, or beyond the last bound.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spread {
    pub count: u64,
    pub p50_seconds_at_most: Option<u64>,
    pub p90_seconds_at_most: Option<u64>,
    pub p99_seconds_at_most: Option<u64>,
}

impl Spread {
    fn new(h: &SecondsHistogram) -> Self {
        let quantile = |q| h.quantile(q).flatten();
        Spread {
            count: h.total(),
            p50_seconds_at_most: quantile(0.5),
            p90_seconds_at_most: quantile(0.9),
            p99_seconds_at_most: quantile(0.99),
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Holds {
    pub lapsed_seats: u64,
    pub hold_to_payment: Spread,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WaitBucket {
    /// `None`: beyond the last bound.
    pub up_to_seconds: Option<u64>,
    pub fans: u64,
}

impl SaleReportBody {
    pub fn new(report: SaleReport, now_ms: u64) -> Self {
        let SaleReport { view, queue, minutes, ledger, holds, fans_held, fans_bought } = report;
        let (s, i) = (&view.snapshot, &view.inventory);
        let status = s.settings.status(now_ms, view.concert.last_start_ms());
        let waits = Spread::new(&queue.waits);
        SaleReportBody {
            concert_id: view.concert.concert_id.clone(),
            title: view.concert.title.clone(),
            status,
            generated_at: rfc3339(now_ms),
            timeline: Timeline {
                prequeue_opens_at: rfc3339(s.settings.prequeue_opens_at_ms),
                opens_at: rfc3339(s.settings.opens_at_ms),
                sold_out_at: s.sold_out_at_ms.map(rfc3339),
                seconds_to_sell_out: s.sold_out_at_ms.map(|at| at.saturating_sub(s.settings.opens_at_ms) as f64 / 1000.0),
            },
            seats: SeatCounts { total: i.seats, available: i.available(), held: i.held, sold: i.sold },
            sales_per_minute: minutes.iter().map(|(&m, &seats)| MinuteSales { minute: rfc3339(m * 60_000), seats }).collect(),
            money: Money { sold_seats: ledger.sold_seats, revenue: ledger.revenue, refunds_due: ledger.refunds_due },
            fans: Fans {
                joined: queue.joined,
                prequeue: queue.prequeue,
                admitted: s.admitted_total,
                dropped_absent: s.dropped_total,
                idle_active: s.idle_active_total,
                never_showed: s.no_shows_total,
                left_line: queue.left_waiting,
                left_after_admission: queue.left_active,
                held: fans_held,
                bought: fans_bought,
                conversion: (s.admitted_total > 0).then(|| (fans_bought as f64 / s.admitted_total as f64 * 1000.0).round() / 1000.0),
                told_sold_out: s.sold_out_waiting,
                waiting_now: s.waiting,
                active_now: s.active,
                codes_issued: s.codes_issued,
                codes_redeemed: s.codes_redeemed,
            },
            seats_per_admitted_fan: (s.admitted_total > 0).then(|| (i.sold as f64 / s.admitted_total as f64 * 100.0).round() / 100.0),
            queue_wait: QueueWait {
                admitted: waits.count,
                p50_seconds_at_most: waits.p50_seconds_at_most,
                p90_seconds_at_most: waits.p90_seconds_at_most,
                p99_seconds_at_most: waits.p99_seconds_at_most,
                buckets: queue
                    .waits
                    .counts
                    .iter()
                    .enumerate()
                    .map(|(slot, &fans)| WaitBucket { up_to_seconds: SECONDS_BUCKETS.get(slot).copied(), fans })
                    .collect(),
            },
            booking_path: Spread::new(&queue.booking_path),
            holds: Holds { lapsed_seats: holds.lapsed, hold_to_payment: Spread::new(&holds.paid_in) },
            errors: queue.errors.into_iter().map(|(status, code, count)| ErrorCount { status, code, count }).collect(),
            changes: s.changes.clone(),
            autopilot_decisions: s.decisions.clone(),
        }
    }

    /// The report as CSV, one figure a row: `section,figure,value` (a spreadsheet's import).
    pub fn to_csv(&self) -> String {
        let mut rows = vec!["section,figure,value".to_owned()];
        let mut row = |section: &str, figure: &str, value: String| rows.push(format!("{section},{figure},{value}"));
        let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        row("concert", "concertId", self.concert_id.to_string());
        row("concert", "title", csv_text(&self.title));
        row("concert", "status", format!("{:?}", self.status).to_uppercase());
        row("concert", "generatedAt", self.generated_at.clone());
        let t = &self.timeline;
        row("timeline", "prequeueOpensAt", t.prequeue_opens_at.clone());
        row("timeline", "opensAt", t.opens_at.clone());
        row("timeline", "soldOutAt", t.sold_out_at.clone().unwrap_or_default());
        row("timeline", "secondsToSellOut", t.seconds_to_sell_out.map(|s| format!("{s:.1}")).unwrap_or_default());
        for (name, v) in
            [("total", self.seats.total), ("sold", self.seats.sold), ("held", self.seats.held), ("available", self.seats.available)]
        {
            row("seats", name, v.to_string());
        }
        for (name, v) in [("soldSeats", self.money.sold_seats), ("revenue", self.money.revenue), ("refundsDue", self.money.refunds_due)] {
            row("money", name, v.to_string());
        }
        let f = &self.fans;
        for (name, v) in [
            ("joined", Some(f.joined)),
            ("prequeue", Some(f.prequeue)),
            ("admitted", Some(f.admitted)),
            ("droppedAbsent", Some(f.dropped_absent)),
            ("idleActive", Some(f.idle_active)),
            ("neverShowed", Some(f.never_showed)),
            ("leftLine", Some(f.left_line)),
            ("leftAfterAdmission", Some(f.left_after_admission)),
            ("held", Some(f.held)),
            ("bought", Some(f.bought)),
            ("toldSoldOut", f.told_sold_out),
            ("waitingNow", Some(f.waiting_now)),
            ("activeNow", Some(f.active_now)),
            ("codesIssued", Some(f.codes_issued)),
            ("codesRedeemed", Some(f.codes_redeemed)),
        ] {
            row("fans", name, opt(v));
        }
        row("fans", "conversion", f.conversion.map(|v| v.to_string()).unwrap_or_default());
        row("fans", "seatsPerAdmittedFan", self.seats_per_admitted_fan.map(|v| v.to_string()).unwrap_or_default());
        for (section, spread) in [("bookingPath", &self.booking_path), ("holdToPayment", &self.holds.hold_to_payment)] {
            row(section, "count", spread.count.to_string());
            row(section, "p50SecondsAtMost", opt(spread.p50_seconds_at_most));
            row(section, "p90SecondsAtMost", opt(spread.p90_seconds_at_most));
            row(section, "p99SecondsAtMost", opt(spread.p99_seconds_at_most));
        }
        row("holds", "lapsedSeats", self.holds.lapsed_seats.to_string());
        for e in &self.errors {
            row("errors", &format!("{} {}", e.status, e.code), e.count.to_string());
        }
        let w = &self.queue_wait;
        row("queueWait", "admitted", w.admitted.to_string());
        row("queueWait", "p50SecondsAtMost", opt(w.p50_seconds_at_most));
        row("queueWait", "p90SecondsAtMost", opt(w.p90_seconds_at_most));
        row("queueWait", "p99SecondsAtMost", opt(w.p99_seconds_at_most));
        for b in &w.buckets {
            row("queueWaitBucket", &b.up_to_seconds.map(|s| format!("upTo{s}s")).unwrap_or_else(|| "beyond".into()), b.fans.to_string());
        }
        for m in &self.sales_per_minute {
            row("salesPerMinute", &m.minute, m.seats.to_string());
        }
        rows.push(String::new());
        rows.join("\r\n")
    }
}

/// A text cell: quoted, with quotes doubled, and never read as a formula by a spreadsheet.
fn csv_text(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    format!("\"{}\"", text.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_cell_is_quoted_and_never_a_formula() {
        assert_eq!(csv_text("Spring, \"Live\""), "\"Spring, \"\"Live\"\"\"");
        assert_eq!(csv_text("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    }
}
