// Drop day: one concert whose pre-queue opens at the start and whose sale opens OPENS_IN seconds
// later (default 60), FANS fans (default 3,000) arriving during the pre-queue minute and LATE_FANS
// (default 1,000) over the LATE_SECONDS after the opening, for DROP_SEATS seats (default 300, in two
// schedules). Each fan signs up, tops up, queues, polls as Retry-After asks, and once ACTIVE tries
// to buy 1 or 2 seats. `k6/run drop` runs it on the local stack. With ABANDON (a share, default 0)
// that many admitted fans hold their seats and never pay (the holds lapse after HOLD_SECONDS), and
// half of those close the tab without leaving the room (their ACTIVE slot ends after
// ACTIVE_IDLE_SECONDS): the room must still sell every seat while fans wait. GRACEFUL_STOP (default
// 30s) is how long fans already in the line may go on after their arrival window.
//
// It reports: the time from the opening to the sell-out, the wait to ACTIVE by arrival group
// (pre-queue vs later), fans admitted who bought nothing, how long after the last sale the last
// waiting fan was told SOLD_OUT, and checks 0 failed requests and 0 oversold seats.
//
// Honest numbers: every waiting answer a fan gets (its ETA and chance) is kept. Once admitted
// (the admission time is its ACTIVE expiry less ACTIVE_TTL_SECONDS, not when the fan noticed), the
// answer it got nearest 10 s, 60 s and 5 min before gives the ETA's error at that horizon
// (`eta_error_10s` etc., percent of the actual wait). A fan who ends without a ticket (told
// SOLD_OUT in line, or admitted and finding no seat) counts in `fans_without_ticket`, and in
// `..._told_unlikely_30s_before` if it was told UNLIKELY at least 30 s before the room sold out; a
// fan who bought counts in `buyers_ever_told_unlikely` if it ever was. DEBUG_ETA=1 logs each fan's
// answers (seconds before its admission, ETA, position) for the 60 s horizon.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Gauge, Trend } from 'k6/metrics';
import { BASE, ADMIN_KEY, sales, checkOversold } from './lib.js';

const FANS = Number(__ENV.FANS || 3000);
const LATE_FANS = Number(__ENV.LATE_FANS || 1000);
const OPENS_IN = Number(__ENV.OPENS_IN || 60);
const LATE_SECONDS = Number(__ENV.LATE_SECONDS || 30);
const SEATS = Number(__ENV.DROP_SEATS || 300);
const STEP_SLEEP = Number(__ENV.STEP_SLEEP ?? 1);
const ABANDON = Number(__ENV.ABANDON || 0);
const GRACEFUL_STOP = __ENV.GRACEFUL_STOP || '30s';

const waitPrequeue = new Trend('wait_prequeue', true);
const waitLate = new Trend('wait_late', true);
const bought = new Counter('seats_bought');
const buyers = new Counter('fans_bought');
const admittedEmpty = new Counter('admitted_bought_nothing');
const toldSoldOut = new Counter('fans_told_sold_out');
const lastSaleAt = new Trend('last_sale_at_ms');
const toldAt = new Trend('told_sold_out_at_ms');
const sellOut = new Gauge('time_to_sell_out_ms');
const abandoned = new Counter('fans_abandoned_holds');
const vanished = new Counter('fans_vanished');
const unsold = new Gauge('seats_left_unsold');
const ACTIVE_TTL_MS = Number(__ENV.ACTIVE_TTL_SECONDS || 600) * 1000;
const HORIZONS = [[10, new Trend('eta_error_10s')], [60, new Trend('eta_error_60s')], [300, new Trend('eta_error_300s')]];
const losers = new Counter('fans_without_ticket');
const losersWarned = new Counter('fans_without_ticket_told_unlikely_30s_before');
const buyersWarned = new Counter('buyers_ever_told_unlikely');
const toldChance = new Counter('waiting_answers_with_a_chance');
let soldOutAtMs = null; // this VU's copy of the room's sold-out time, once known

const JSON_HEADERS = { 'content-type': 'application/json' };
const joinStatuses = http.expectedStatuses(200, 201, 409);
const holdStatuses = http.expectedStatuses(201, 409);

// Fans who come after the opening (none when LATE_FANS=0: k6 refuses a rate of 0).
const LATE = LATE_FANS > 0 ? {
  late: {
    executor: 'constant-arrival-rate',
    exec: 'lateFan',
    startTime: `${OPENS_IN}s`,
    rate: LATE_FANS,
    timeUnit: `${LATE_SECONDS}s`,
    duration: `${LATE_SECONDS}s`,
    preAllocatedVUs: Math.min(LATE_FANS, 2000),
    maxVUs: LATE_FANS + 200,
    gracefulStop: GRACEFUL_STOP,
  },
} : {};

export const options = {
  scenarios: {
    prequeue: {
      executor: 'constant-arrival-rate',
      exec: 'prequeueFan',
      rate: FANS,
      timeUnit: `${OPENS_IN}s`,
      duration: `${OPENS_IN}s`,
      preAllocatedVUs: Math.min(FANS, 4000),
      maxVUs: FANS + 200,
      gracefulStop: GRACEFUL_STOP,
    },
    ...LATE,
  },
  thresholds: {
    http_req_failed: ['rate==0'],
    checks: ['rate==1'],
    seats_oversold: ['count==0'],
    wait_prequeue: ['max>=0'],
    wait_late: ['max>=0'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'],
  setupTimeout: '60s',
  teardownTimeout: '120s',
};

export function setup() {
  const now = Date.now();
  const iso = (ms) => new Date(ms).toISOString();
  const half = Math.floor(SEATS / 2);
  const body = {
    title: `Drop ${now}`,
    venue: 'k6 Arena',
    prequeueOpensAt: iso(now),
    opensAt: iso(now + OPENS_IN * 1000),
    schedules: [
      { startsAt: iso(now + 30 * 86400000), price: 1000, seatCount: SEATS - half },
      { startsAt: iso(now + 31 * 86400000), price: 1000, seatCount: half },
    ],
  };
  const res = http.post(`${BASE}/admin/concerts`, JSON.stringify(body), { headers: { ...JSON_HEADERS, 'x-admin-key': ADMIN_KEY }, tags: { name: 'admin' } });
  if (res.status !== 201) throw new Error(`create concert: ${res.status} ${res.body}`);
  return { concert: res.json(), opensAt: now + OPENS_IN * 1000, before: sales() };
}

function fan(data, group) {
  const concertId = data.concert.concertId;
  const signup = http.post(`${BASE}/users`, JSON.stringify({ name: `fan-${group}-${__VU}-${__ITER}` }), { headers: JSON_HEADERS, tags: { name: 'signup' } });
  if (!check(signup, { 'signup 201': (r) => r.status === 201 })) return;
  const auth = { ...JSON_HEADERS, authorization: `Bearer ${signup.json('accessToken')}` };
  http.post(`${BASE}/users/me/balance`, JSON.stringify({ amount: 10000 }), { headers: auth, tags: { name: 'charge' } });

  const joined = Date.now();
  const issued = http.post(`${BASE}/queue/tokens`, JSON.stringify({ concertId }), { headers: auth, responseCallback: joinStatuses, tags: { name: 'issue-token' } });
  if (issued.status === 409) {
    toldSoldOut.add(1);
    toldAt.add(Date.now());
    return;
  }
  if (!check(issued, { 'issue-token 201': (r) => r.status === 201 })) return;
  const both = { ...auth, 'queue-token': issued.json('queueToken') };
  let status = issued.json('status');
  let retry = Number(issued.headers['Retry-After'] || 1);
  let answer = issued.json();
  const told = []; // [when, etaSeconds] of every waiting answer
  let firstUnlikelyAt = null;
  while (status !== 'ACTIVE') {
    if (status === 'WAITING') {
      told.push([Date.now(), answer.etaSeconds, answer.position, answer.chance]);
      if (answer.chance) toldChance.add(1);
      if (answer.chance === 'UNLIKELY' && firstUnlikelyAt === null) firstUnlikelyAt = Date.now();
    }
    if (status === 'SOLD_OUT') {
      toldSoldOut.add(1);
      toldAt.add(Date.now());
      withoutTicket(data, firstUnlikelyAt);
      return;
    }
    if (!check(status, { 'never dropped from the line': (s) => s !== 'EXPIRED' })) return;
    sleep(retry);
    const res = http.get(`${BASE}/queue/tokens/current`, { headers: both, tags: { name: 'token-status' } });
    if (!check(res, { 'token-status 200': (r) => r.status === 200 })) return;
    answer = res.json();
    status = answer.status;
    retry = Number(res.headers['Retry-After'] || 1);
  }
  etaErrors(told, Date.parse(answer.expiresAt) - ACTIVE_TTL_MS);
  // The wait to admission: from the opening for the pre-queue, from joining for later fans.
  (group === 'prequeue' ? waitPrequeue : waitLate).add(Date.now() - Math.max(joined, data.opensAt));

  // Hold every seat wanted first, then pay each: the token ends with the payment that leaves the
  // fan no live hold.
  const want = 1 + Math.floor(Math.random() * 2);
  const holds = [];
  for (let attempt = 0; attempt < 4 && holds.length < want; attempt++) {
    sleep(STEP_SLEEP);
    const schedule = data.concert.schedules[Math.floor(Math.random() * data.concert.schedules.length)].scheduleId;
    const seats = http.get(`${BASE}/concerts/${concertId}/schedules/${schedule}/seats?status=AVAILABLE`, { headers: both, responseCallback: joinStatuses, tags: { name: 'list-seats' } });
    if (seats.status !== 200) break; // the room sold out while choosing: the token is released
    const free = seats.json('seats');
    if (free.length === 0) continue;
    const seat = free[Math.floor(Math.random() * free.length)].number;
    const held = http.post(`${BASE}/reservations`, JSON.stringify({ scheduleId: schedule, seatNumber: seat }), { headers: both, responseCallback: holdStatuses, tags: { name: 'hold-seat' } });
    if (held.status === 201) holds.push(held.json('reservationId'));
  }
  if (holds.length > 0 && Math.random() < ABANDON) {
    // Never pays: the holds lapse. Half leave the room; the others just close the tab.
    abandoned.add(1);
    if (Math.random() < 0.5) http.del(`${BASE}/queue/tokens/current`, null, { headers: both, tags: { name: 'leave-queue' } });
    else vanished.add(1);
    return;
  }
  let got = 0;
  for (const reservationId of holds) {
    sleep(STEP_SLEEP);
    const paid = http.post(`${BASE}/payments`, JSON.stringify({ reservationId }), {
      headers: { ...both, 'idempotency-key': `pay-${reservationId}` },
      tags: { name: 'pay' },
    });
    if (check(paid, { 'pay 201': (r) => r.status === 201 })) {
      got += 1;
      bought.add(1);
      lastSaleAt.add(Date.now());
    }
  }
  if (got > 0) buyers.add(1);
  else admittedEmpty.add(1);
  if (got > 0 && firstUnlikelyAt !== null) buyersWarned.add(1);
  if (got === 0 && holds.length === 0) withoutTicket(data, firstUnlikelyAt);
  // A fan who got nothing gives the slot back at once.
  if (got === 0) http.del(`${BASE}/queue/tokens/current`, null, { headers: both, tags: { name: 'leave-queue' } });
}

// Each horizon's error from the answer nearest to it (within a quarter either side), in percent
// of the wait that was actually left.
function etaErrors(told, admittedAt) {
  for (const [horizon, trend] of HORIZONS) {
    let best = null;
    for (const [at, eta] of told) {
      const left = (admittedAt - at) / 1000;
      if (eta == null || Math.abs(left - horizon) > horizon / 4) continue;
      if (best === null || Math.abs(left - horizon) < Math.abs(best[0] - horizon)) best = [left, eta];
    }
    if (best !== null && best[0] > 0) trend.add((100 * Math.abs(best[1] - best[0])) / best[0]);
    if (__ENV.DEBUG_ETA && best !== null && horizon === 60) console.log(`eta60 admittedAt=${admittedAt} told=${JSON.stringify(told.map(([at, eta, pos]) => [Math.round((admittedAt - at) / 1000), eta, pos]))}`);
  }
}

// A fan who ends without a ticket, and whether it was told UNLIKELY 30 s before the sell-out (the
// room's own time, read once per VU; a room not sold out yet counts from now).
function withoutTicket(data, firstUnlikelyAt) {
  losers.add(1);
  if (soldOutAtMs === null) {
    const room = http.get(`${BASE}/admin/concerts/${data.concert.concertId}/room`, { headers: { 'x-admin-key': ADMIN_KEY }, tags: { name: 'admin' } });
    const at = room.status === 200 ? room.json('soldOutAt') : null;
    if (at) soldOutAtMs = Date.parse(at);
  }
  if (firstUnlikelyAt !== null && firstUnlikelyAt <= (soldOutAtMs ?? Date.now()) - 30000) losersWarned.add(1);
}

export function prequeueFan(data) {
  fan(data, 'prequeue');
}

export function lateFan(data) {
  fan(data, 'late');
}

export function teardown(data) {
  checkOversold(data.before);
  const room = http.get(`${BASE}/admin/concerts/${data.concert.concertId}/room`, { headers: { 'x-admin-key': ADMIN_KEY }, tags: { name: 'admin' } });
  const r = room.json();
  console.log(`room: ${r.status}, sold ${r.seats.sold}/${r.seats.total}, admitted ${r.admittedTotal}, dropped ${r.droppedTotal}, sold out at ${r.soldOutAt}, told ${r.soldOutWaiting} waiting fans`);
  if (r.soldOutAt) sellOut.add(Date.parse(r.soldOutAt) - data.opensAt);
  unsold.add(r.seats.total - r.seats.sold);
  if (FANS + LATE_FANS > 2 * SEATS) {
    // Far more fans than seats: the room must sell every seat it can while fans wait.
    check(r, { 'every seat sold while fans waited': (x) => x.seats.sold === x.seats.total });
  }
}
