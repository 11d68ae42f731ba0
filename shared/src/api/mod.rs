//! Every body the API answers with, in one place. A handler reads domain data from the stores and
//! builds one of these; the stores never shape an answer. `docs/openapi.json` describes the same
//! shapes (its test checks the routes and codes against `template.yaml` and the error table).
//!
//! - `account.rs`: sign-up, balance, a charge.
//! - `catalog.rs`: the public catalog.
//! - `queue.rs`: a fan's place in a room ([`queue_status`]), the room's public state and lottery,
//!   leaving, the door's challenge.
//! - `seats.rs`: a page of a schedule's seats, written straight to JSON.
//! - `booking.rs`: a reservation as fans see it, a payment, "my reservations".
//! - `operator.rs`: a room as its operator sees it, a change, the sales report.
//! - `report.rs`: a room's sale summed up for its operator, as JSON or CSV.

mod account;
mod booking;
mod catalog;
mod operator;
mod queue;
mod report;
mod seats;

pub use account::{BalanceBody, ChargedBody, SignedUpBody};
pub use booking::{PaymentBody, Reservation, ReservationsBody};
pub use catalog::CatalogBody;
pub use operator::{AutopilotReport, RoomChangedBody, RoomReport, SalesReportBody, SeatCounts};
pub use queue::{queue_status, ChallengeBody, LeftBody, LotteryBody, LotteryOrder, RoomState};
pub use report::SaleReportBody;
pub use seats::SeatPageBody;
