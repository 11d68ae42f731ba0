//! A fan's place in a room, the room's public state and lottery, and leaving.

use lambda_http::http::header::{self, HeaderValue};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::domain::challenge::Challenge;
use crate::domain::forecast::Forecast;
use crate::domain::ids::ConcertId;
use crate::domain::models::rfc3339;
use crate::domain::queue::{eta_seconds, waiting_retry_after, Chance, QueuePosition, RoomStatus, SeatsAhead};
use crate::http::json;
use crate::store::flows::PublicRoom;
use crate::store::queue::{Admission, DoorNow, Left, PublicLottery};

/// The answer of the queue endpoints: the token, its concert, its status and, while waiting, the
/// position, the ETA (`domain::queue::eta_seconds`), the chance of a ticket with what it rests on,
/// and a `Retry-After` that grows with the distance (in the pre-queue: the time to the opening, at
/// most 30 s).
pub fn queue_status(status: u16, queue_token: &str, concert: &ConcertId, position: &QueuePosition, now_ms: u64) -> Response<Body> {
    let mut body = QueueStatusBody { queue_token, concert_id: concert.as_str(), ..Default::default() };
    let retry_after = match position {
        QueuePosition::Prequeue { opens_at_ms } => {
            let retry = (opens_at_ms.saturating_sub(now_ms) / 1000).clamp(1, 30);
            body.status = "PREQUEUE";
            body.opens_at = Some(rfc3339(*opens_at_ms));
            Some(retry)
        }
        QueuePosition::Waiting { position, line, paused, place } => {
            let eta = if *paused { None } else { eta_seconds(*position, *place, now_ms, line) };
            // A paused or stopped line: every 10 s, so fans move on soon after it moves again.
            let retry = waiting_retry_after(*position, *place, eta, *paused);
            body.status = "WAITING";
            body.position = Some(*position);
            body.place = Some(*place);
            body.eta_seconds = Some(eta);
            body.room_status = Some(if *paused { "PAUSED" } else { "OPEN" });
            if let Some(seats) = &line.seats {
                body.chance = Some(seats.chance(*position));
                body.chance_basis = Some(ChanceBasis::new(seats, *position));
            }
            Some(retry)
        }
        QueuePosition::Active { expires_at_ms } => {
            body.status = "ACTIVE";
            body.expires_at = Some(rfc3339(*expires_at_ms));
            None
        }
        QueuePosition::SoldOut => {
            body.status = "SOLD_OUT";
            None
        }
        QueuePosition::Expired => {
            body.status = "EXPIRED";
            None
        }
    };
    body.retry_after_seconds = retry_after;
    let mut resp = json(status, &body);
    if let Some(seconds) = retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, seconds.into());
    }
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The queue endpoints' body. A typed struct rather than a `serde_json::Value`, as every waiting
/// fan's poll writes one; its fields are in the order a `Value` would write them (alphabetical),
/// and `etaSeconds` of a waiting ticket is `null` when no rate is known yet.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct QueueStatusBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    chance: Option<Chance>,
    #[serde(skip_serializing_if = "Option::is_none")]
    chance_basis: Option<ChanceBasis>,
    concert_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    eta_seconds: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    opens_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<u64>,
    queue_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    room_status: Option<&'static str>,
    status: &'static str,
}

/// What a waiting fan's chance of a ticket rests on (`domain::queue::SeatsAhead`); fields in
/// alphabetical order, as the rest of the body.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ChanceBasis {
    /// Seats left for the line if every live hold lapses, and if every one is paid.
    seats_left_if_holds_lapse: i64,
    seats_left_if_holds_paid: i64,
    /// Seats an admitted fan buys, on average so far.
    seats_per_fan: f64,
    /// Seats the fans up to this one (included) are expected to buy.
    seats_wanted: u64,
}

impl ChanceBasis {
    fn new(seats: &SeatsAhead, position: u64) -> Self {
        ChanceBasis {
            seats_left_if_holds_lapse: seats.if_holds_lapse.max(0.0).floor() as i64,
            seats_left_if_holds_paid: seats.if_holds_paid.max(0.0).floor() as i64,
            seats_per_fan: (seats.per_fan * 100.0).round() / 100.0,
            seats_wanted: seats.wanted_through(position).round() as u64,
        }
    }
}

/// The public state's side of the chance of a ticket: the positions a fan following the state
/// compares its own with, and what they rest on.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicChance {
    /// Positions up to this one are told `LIKELY` (0: none).
    pub likely_through: u64,
    /// Positions from this one on are told `UNLIKELY`.
    pub unlikely_from: u64,
    pub seats_left_if_holds_paid: i64,
    pub seats_left_if_holds_lapse: i64,
    pub seats_per_fan: f64,
}

impl PublicChance {
    fn new(seats: &SeatsAhead) -> Self {
        PublicChance {
            likely_through: seats.likely_through(),
            unlikely_from: seats.unlikely_from(),
            seats_left_if_holds_paid: seats.if_holds_paid.max(0.0).floor() as i64,
            seats_left_if_holds_lapse: seats.if_holds_lapse.max(0.0).floor() as i64,
            seats_per_fan: (seats.per_fan * 100.0).round() / 100.0,
        }
    }
}

/// The public state's forecast: places `fromPlace` to each run's `throughPlace` (from the last
/// run's end on) are let in evenly from `startsAt` to `endsAt`; a place past the last run is not
/// let in within the forecast, unless `capBound` (the ACTIVE cap stopped it: the line then moves at
/// `admittedPerSecondWhileBound`). A fan's place is its status' `place`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicForecast {
    pub from_place: u64,
    pub cap_bound: bool,
    pub runs: Vec<PublicRun>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicRun {
    pub through_place: u64,
    pub starts_at: String,
    pub ends_at: String,
}

impl PublicForecast {
    fn new(f: &Forecast) -> Self {
        let runs = f.runs.iter().map(|r| PublicRun { through_place: r.to, starts_at: rfc3339(r.start_ms), ends_at: rfc3339(r.end_ms) });
        PublicForecast { from_place: f.head, cap_bound: f.cap_bound, runs: runs.collect() }
    }
}

/// A room's public state, the same for every fan: what a CDN can serve to a whole line. A waiting
/// fan derives its position (`place - admitted_total`) and ETA from it, and asks for its own
/// status only near its turn and as a heartbeat.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoomState {
    pub concert_id: ConcertId,
    pub status: RoomStatus,
    /// Fans admitted since the room opened.
    pub admitted_total: u64,
    /// The admission rate measured over recent ticks; `None` until one has been observed.
    pub admitted_per_second: Option<f64>,
    /// What a fan following this state needs for the same ETA as its own status
    /// (`domain::queue::eta_seconds`): positions within `headroom` come in at
    /// `admittedPerSecondAtPace`, later ones at `admittedPerSecondWhileBound`.
    pub admitted_per_second_at_pace: Option<f64>,
    pub headroom: Option<u64>,
    pub admitted_per_second_while_bound: Option<f64>,
    /// When each place is likely to be let in, as the last tick forecast it from the holds ahead
    /// (`domain::forecast`): what a fan's own ETA follows where it covers its place. `None` while
    /// paused or before a tick made one.
    pub admission_forecast: Option<PublicForecast>,
    /// The chance of a ticket by position; `None` until a tick measured the seats left.
    pub chance: Option<PublicChance>,
    /// The most the room admits a second at its settings (`admitPerTick` per tick). While the
    /// room is paused or no rate is measured, a fan judges from it whether its turn could come
    /// soon once the line moves, and if so asks for its own status (it must be seen recently
    /// to be admitted); otherwise it keeps following this state.
    pub admission_pace_per_second: f64,
    /// Places in the line now.
    pub waiting: u64,
    /// When the sale opens (RFC 3339; the operator may move it until then). A fan in the
    /// pre-queue follows this state until a minute before, then asks for its own status: it must
    /// have been seen recently when the drawn order reaches it.
    pub opens_at: String,
    /// How often a waiting fan must still ask for its own status, in seconds, or be dropped as
    /// abandoned (a third of `WAIT_ABANDON_SECONDS`).
    pub heartbeat_seconds: u64,
    /// SHA-256 of the secret seed that orders the pre-queue at the opening, published from the
    /// room's creation; the seed and the drawn order follow at `GET /concerts/{id}/lottery`.
    pub lottery_commitment: Option<String>,
    /// When this state was read (RFC 3339).
    pub read_at: String,
}

impl RoomState {
    /// `room` as every fan may see it: the pace from the room's own `admitPerTick` (else the
    /// environment's `defaults`), and how often a waiting fan must be seen (`heartbeat_seconds`).
    pub fn new(room: PublicRoom, defaults: Admission, heartbeat_seconds: u64, now_ms: u64) -> RoomState {
        let (concert, line) = (room.concert, room.line);
        let per_tick = line.admit_per_tick.unwrap_or(defaults.admit_per_tick);
        RoomState {
            concert_id: concert.concert_id,
            status: concert.room_status.unwrap_or(RoomStatus::Closed),
            admitted_total: line.admitted_total,
            admitted_per_second: line.ahead.admitted_per_second,
            admitted_per_second_at_pace: line.ahead.pace,
            headroom: line.ahead.headroom,
            admitted_per_second_while_bound: line.ahead.bound_rate,
            admission_forecast: line.ahead.forecast.as_ref().map(PublicForecast::new),
            chance: line.ahead.seats.as_ref().map(PublicChance::new),
            admission_pace_per_second: per_tick as f64 * 1000.0 / defaults.tick_ms.max(1) as f64,
            waiting: line.waiting,
            opens_at: concert.sale.opens_at,
            heartbeat_seconds,
            lottery_commitment: line.lottery_commitment,
            read_at: rfc3339(now_ms),
        }
    }
}

/// `GET /concerts/{id}/lottery`: the pre-queue's lottery as anyone may check it
/// (`domain/lottery.rs`). `COMMITTED` before the opening (the commitment only), `DRAWN` once the
/// order is drawn (the seed, the count of places and a page of the order), `NOT_DRAWN` when the
/// room opened with nobody in its pre-queue (the seed, nothing to order).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LotteryBody {
    pub concert_id: ConcertId,
    pub status: &'static str,
    pub commitment: String,
    pub committed_at: String,
    pub seed: Option<String>,
    pub tickets: Option<u64>,
    pub drawn_at: Option<String>,
    pub rule: &'static str,
    pub order: LotteryOrder,
}

/// A page of the drawn order: `tickets[0]` stood at rank `offset` (0 is the first admitted).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LotteryOrder {
    pub offset: u64,
    pub tickets: Vec<u64>,
    /// The offset of the next page, while the order goes on.
    pub next: Option<u64>,
}

impl LotteryBody {
    pub fn new(concert_id: ConcertId, lottery: PublicLottery) -> Self {
        let status = match (&lottery.drawn_at_ms, &lottery.seed) {
            (Some(_), _) => "DRAWN",
            (None, Some(_)) => "NOT_DRAWN",
            (None, None) => "COMMITTED",
        };
        let end = lottery.offset + lottery.order.len() as u64;
        let next = lottery.tickets.filter(|&n| end < n && !lottery.order.is_empty()).map(|_| end);
        LotteryBody {
            concert_id,
            status,
            commitment: lottery.commitment,
            committed_at: rfc3339(lottery.committed_at_ms),
            seed: lottery.seed,
            tickets: lottery.tickets,
            drawn_at: lottery.drawn_at_ms.map(rfc3339),
            rule: crate::domain::lottery::RULE,
            order: LotteryOrder { offset: lottery.offset, tickets: lottery.order, next },
        }
    }

    /// Once drawn the answer never changes.
    pub fn is_final(&self) -> bool {
        self.status != "COMMITTED"
    }
}

/// `DELETE /queue/tokens/current`: where the place was when its holder left.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeftBody<'a> {
    /// Always `LEFT`.
    pub status: &'static str,
    pub was: &'static str,
    pub concert_id: &'a ConcertId,
}

impl<'a> LeftBody<'a> {
    pub fn new(was: Left, concert_id: &'a ConcertId) -> Self {
        let was = match was {
            Left::Waiting => "WAITING",
            Left::Active => "ACTIVE",
            Left::Gone => "GONE",
        };
        LeftBody { status: "LEFT", was, concert_id }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::queue::LineAhead;

    /// The body as it was written before it was typed: a `serde_json::Value`, keys sorted.
    fn value_body(queue_token: &str, concert: &ConcertId, position: &QueuePosition, now_ms: u64) -> serde_json::Value {
        use serde_json::json;
        let mut body = match position {
            QueuePosition::Prequeue { opens_at_ms } => {
                let retry = (opens_at_ms.saturating_sub(now_ms) / 1000).clamp(1, 30);
                json!({ "status": "PREQUEUE", "opensAt": rfc3339(*opens_at_ms), "retryAfterSeconds": retry })
            }
            QueuePosition::Waiting { position, line, paused, place } => {
                let eta = if *paused { None } else { eta_seconds(*position, *place, now_ms, line) };
                let retry = waiting_retry_after(*position, *place, eta, *paused);
                let room = if *paused { "PAUSED" } else { "OPEN" };
                let mut body = json!({ "status": "WAITING", "position": position, "place": place, "etaSeconds": eta, "retryAfterSeconds": retry, "roomStatus": room });
                if let Some(seats) = &line.seats {
                    body["chance"] = serde_json::to_value(seats.chance(*position)).unwrap();
                    body["chanceBasis"] = json!({
                        "seatsWanted": (seats.wanted_through(*position)).round() as u64,
                        "seatsLeftIfHoldsPaid": seats.if_holds_paid.max(0.0).floor() as i64,
                        "seatsLeftIfHoldsLapse": seats.if_holds_lapse.max(0.0).floor() as i64,
                        "seatsPerFan": (seats.per_fan * 100.0).round() / 100.0,
                    });
                }
                body
            }
            QueuePosition::Active { expires_at_ms } => json!({ "status": "ACTIVE", "expiresAt": rfc3339(*expires_at_ms) }),
            QueuePosition::SoldOut => json!({ "status": "SOLD_OUT" }),
            QueuePosition::Expired => json!({ "status": "EXPIRED" }),
        };
        body["queueToken"] = queue_token.into();
        body["concertId"] = concert.as_str().into();
        body
    }

    fn pace(pace: Option<f64>) -> LineAhead {
        LineAhead { pace, headroom: Some(100), bound_rate: Some(0.5), ..Default::default() }
    }

    #[test]
    fn the_queue_status_body_is_byte_for_byte_what_the_untyped_one_was() {
        let seats = SeatsAhead { per_fan: 1.5, if_holds_paid: 80.4, if_holds_lapse: 120.9 };
        let concert = ConcertId::parse("08e0afb0b17af24813598711d26f3ed4").unwrap();
        let now = 1_795_000_000_000;
        let positions = [
            QueuePosition::Prequeue { opens_at_ms: now + 45_500 },
            QueuePosition::Waiting { position: 12, line: pace(Some(3.5)), paused: false, place: 40 },
            QueuePosition::Waiting { position: 12, line: pace(None), paused: false, place: 40 },
            QueuePosition::Waiting { position: 7, line: pace(Some(3.5)), paused: true, place: 9 },
            QueuePosition::Waiting { position: 30, line: LineAhead { seats: Some(seats), ..pace(Some(2.0)) }, paused: false, place: 31 },
            QueuePosition::Waiting { position: 300, line: LineAhead { seats: Some(seats), ..pace(Some(2.0)) }, paused: false, place: 301 },
            QueuePosition::Active { expires_at_ms: now + 600_000 },
            QueuePosition::SoldOut,
            QueuePosition::Expired,
        ];
        for position in &positions {
            let resp = queue_status(200, "qt.a.b.1.sig", &concert, position, now);
            let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            let Body::Text(text) = resp.body() else { panic!("a JSON body is text") };
            let expected = value_body("qt.a.b.1.sig", &concert, position, now);
            assert_eq!(text, &serde_json::to_string(&expected).unwrap(), "{position:?}");
            assert_eq!(retry, expected["retryAfterSeconds"].as_u64(), "{position:?}");
            assert_eq!(resp.headers()["cache-control"], "no-store");
        }
    }
}

/// `GET /concerts/{id}/challenge`: a challenge to solve before joining. `required` is false when
/// the room's door is open to all (a join then needs no solution, and `bits` is 0).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeBody {
    pub challenge: String,
    /// Leading zero bits SHA-256(`challenge:nonce`) must have: about 2^bits hashes to find.
    pub bits: u8,
    pub algorithm: &'static str,
    pub expires_at: String,
    pub required: bool,
}

impl ChallengeBody {
    pub fn new(token: String, challenge: &Challenge, door: &DoorNow) -> Self {
        ChallengeBody {
            challenge: token,
            bits: challenge.bits,
            algorithm: "sha256-leading-zero-bits",
            expires_at: rfc3339(challenge.expires_at_ms),
            required: !door.door.is_open_to_all(),
        }
    }
}
