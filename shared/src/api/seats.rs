//! A page of a schedule's seats (`GET /concerts/{concertId}/schedules/{scheduleId}/seats`).

use serde::Serialize;

use crate::domain::ids::{ConcertId, ScheduleId};
use crate::domain::models::{Seat, SeatStatus};

/// The answer as the API documents it (`docs/openapi.json`). Its `Serialize` is the reference
/// that [`SeatPageBody::to_json`] is tested against.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeatPageBody<'a> {
    pub concert_id: &'a ConcertId,
    pub schedule_id: &'a ScheduleId,
    pub seat_count: u32,
    pub from: u32,
    pub next_from: Option<u32>,
    pub seats: &'a [Seat],
}

impl SeatPageBody<'_> {
    /// The page's JSON, written directly: serde_json took about a quarter of the gateway's CPU on
    /// a 500-seat page (`perf`: escaping the same two keys and three status words per seat, and
    /// growing the string; see `k6/RESULTS.md`), and a listing is the largest answer of a drop.
    /// Everything here is digits, hex ids and fixed words, so nothing needs escaping; the test below holds it to serde's output byte for byte.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(200 + self.seats.len() * 40);
        let mut digits = itoa::Buffer::new();
        out.push_str("{\"concertId\":\"");
        out.push_str(self.concert_id.as_str());
        out.push_str("\",\"scheduleId\":\"");
        out.push_str(self.schedule_id.as_str());
        out.push_str("\",\"seatCount\":");
        out.push_str(digits.format(self.seat_count));
        out.push_str(",\"from\":");
        out.push_str(digits.format(self.from));
        out.push_str(",\"nextFrom\":");
        out.push_str(self.next_from.map_or("null", |n| digits.format(n)));
        out.push_str(",\"seats\":[");
        for (i, seat) in self.seats.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"number\":");
            out.push_str(digits.format(seat.number));
            out.push_str(match seat.status {
                SeatStatus::Available => ",\"status\":\"AVAILABLE\"}",
                SeatStatus::Held => ",\"status\":\"HELD\"}",
                SeatStatus::Sold => ",\"status\":\"SOLD\"}",
            });
        }
        out.push_str("]}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_page_is_the_serialized_page() {
        let (concert, schedule) = (ConcertId::random(), ScheduleId::random());
        let statuses = [SeatStatus::Available, SeatStatus::Held, SeatStatus::Sold];
        let seats: Vec<Seat> = (1..=7).map(|number| Seat { number, status: statuses[number as usize % 3] }).collect();
        for (seats, next_from) in [(&seats[..], Some(8)), (&seats[..0], None), (&seats[..1], Some(u32::MAX))] {
            let view = SeatPageBody { concert_id: &concert, schedule_id: &schedule, seat_count: 12_000, from: 1, next_from, seats };
            let written: serde_json::Value = serde_json::from_str(&view.to_json()).expect("valid JSON");
            assert_eq!(written, serde_json::to_value(&view).unwrap());
            assert_eq!(view.to_json(), serde_json::to_string(&view).unwrap(), "byte for byte, too");
        }
    }
}
