// The user journey of the seed report, done for real: signup, charge, the public catalog, a queue
// token in the chosen concert's room, wait for ACTIVE (honouring Retry-After), available seats,
// hold (another seat on 409), pay, balance. A fan who finds the show sold out gives up.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';

export const BASE = __ENV.BASE_URL || 'http://127.0.0.1:3000';
export const ADMIN_KEY = __ENV.ADMIN_KEY || 'local-admin-key';
const STEP_SLEEP = Number(__ENV.STEP_SLEEP ?? 1);
const QUEUE_TIMEOUT_S = Number(__ENV.QUEUE_TIMEOUT ?? 120);

export const queueWait = new Trend('queue_wait', true);
export const purchases = new Counter('purchases_completed');
export const gaveUp = new Counter('seats_gave_up');
export const oversold = new Counter('seats_oversold');

const JSON_HEADERS = { 'content-type': 'application/json' };
// A 409 when a seat was taken between listing and holding is part of the journey, not a failure.
const holdStatuses = http.expectedStatuses(201, 409);
// So is a 409 SOLD_OUT when joining a room that sold out since the catalog was read.
const joinStatuses = http.expectedStatuses(201, 409);

function ok(res, status, name) {
  return check(res, { [`${name} ${status}`]: (r) => r.status === status });
}

// The invoke fixtures' concert (`local/src/bin/seed.rs`): its fixture ticket stays ACTIVE for a
// day and holds nothing, and admission counts such a fan against the seats left, so the last seat
// of its 50 is never offered to the line. Journeys leave that room alone.
const FIXTURE_CONCERT = '000000000000000000000000000000c1';

export function journey(extraTags = {}) {
  const t = (name) => ({ name, kind: 'api', ...extraTags });
  const signup = http.post(`${BASE}/users`, JSON.stringify({ name: `k6-${__VU}-${__ITER}` }), { headers: JSON_HEADERS, tags: t('signup') });
  if (!ok(signup, 201, 'signup')) return;
  const auth = { ...JSON_HEADERS, authorization: `Bearer ${signup.json('accessToken')}` };
  if (!ok(http.post(`${BASE}/users/me/balance`, JSON.stringify({ amount: 100000 }), { headers: auth, tags: t('charge') }), 200, 'charge')) return;

  // The public catalog first (no token; a CDN would serve it), then the chosen concert's room.
  const concerts = http.get(`${BASE}/concerts`, { tags: t('list-concerts') });
  if (!ok(concerts, 200, 'list-concerts')) return;
  const open = [];
  for (const c of concerts.json('concerts')) {
    if (c.roomStatus !== 'OPEN' || c.concertId === FIXTURE_CONCERT) continue;
    for (const s of c.schedules) if (s.availableSeats > 0) open.push([c.concertId, s.scheduleId]);
  }
  if (open.length === 0) {
    gaveUp.add(1);
    return;
  }
  const [concertId, scheduleId] = open[Math.floor(Math.random() * open.length)];

  sleep(STEP_SLEEP);
  const issued = http.post(`${BASE}/queue/tokens`, JSON.stringify({ concertId }), { headers: auth, responseCallback: joinStatuses, tags: t('issue-token') });
  if (issued.status === 409) {
    gaveUp.add(1); // sold out since the catalog was read
    return;
  }
  if (!ok(issued, 201, 'issue-token')) return;
  const both = { ...auth, 'queue-token': issued.json('queueToken') };
  const queued = Date.now();
  let status = issued.json('status');
  let retry = Number(issued.headers['Retry-After'] || 1);
  while (status !== 'ACTIVE') {
    if (status === 'SOLD_OUT') {
      gaveUp.add(1);
      return;
    }
    if (status === 'EXPIRED' || Date.now() - queued > QUEUE_TIMEOUT_S * 1000) {
      check(null, { 'admitted from the queue': () => false });
      return;
    }
    sleep(retry);
    const res = http.get(`${BASE}/queue/tokens/current`, { headers: both, tags: t('token-status') });
    if (!ok(res, 200, 'token-status')) return;
    status = res.json('status');
    retry = Number(res.headers['Retry-After'] || 1);
  }
  queueWait.add(Date.now() - queued);

  sleep(STEP_SLEEP);
  const seats = http.get(`${BASE}/concerts/${concertId}/schedules/${scheduleId}/seats?status=AVAILABLE`, { headers: both, tags: t('list-seats') });
  if (!ok(seats, 200, 'list-seats')) return;
  const available = seats.json('seats').map((s) => s.number);
  let reservation = null;
  for (let attempt = 0; attempt < 3 && available.length > 0 && !reservation; attempt++) {
    const seat = available.splice(Math.floor(Math.random() * available.length), 1)[0];
    const res = http.post(`${BASE}/reservations`, JSON.stringify({ scheduleId, seatNumber: seat }), { headers: both, responseCallback: holdStatuses, tags: t('hold-seat') });
    check(res, { 'hold-seat 201 or 409': (r) => r.status === 201 || r.status === 409 });
    if (res.status === 201) reservation = res.json();
  }
  if (!reservation) {
    // Leave, as the fan's page does: an admitted fan who holds nothing keeps an ACTIVE slot until
    // ACTIVE_TTL_SECONDS, and near a sell-out such slots are what admission waits for.
    http.del(`${BASE}/queue/tokens/current`, null, { headers: both, tags: t('leave-queue') });
    gaveUp.add(1);
    return;
  }

  sleep(STEP_SLEEP);
  const paid = http.post(`${BASE}/payments`, JSON.stringify({ reservationId: reservation.reservationId }), {
    headers: { ...both, 'idempotency-key': `pay-${reservation.reservationId}` },
    tags: t('pay'),
  });
  if (!ok(paid, 201, 'pay')) return;
  purchases.add(1);

  sleep(STEP_SLEEP);
  const balance = http.get(`${BASE}/users/me/balance`, { headers: auth, tags: t('balance') });
  check(balance, { 'balance after payment': (r) => r.status === 200 && r.json('balance') === 100000 - reservation.price });
}

export function sales() {
  const res = http.get(`${BASE}/admin/sales`, { headers: { 'x-admin-key': ADMIN_KEY }, tags: { name: 'admin' } });
  check(res, { 'sales report 200': (r) => r.status === 200 });
  return res.json();
}

// Oversold seats, checked against the store: every PaymentCompleted event counted by the ledger
// must match a distinct SOLD seat, and no schedule may sell more seats than it has. Waits up to
// 20 s for Kafka to deliver the last events.
export function checkOversold(before) {
  let after = sales();
  for (let i = 0; i < 20 && after.soldSeats - before.soldSeats < after.seatMapSold - before.seatMapSold; i++) {
    sleep(1);
    after = sales();
  }
  const events = after.soldSeats - before.soldSeats;
  const sold = after.seatMapSold - before.seatMapSold;
  const overCapacity = after.schedules.filter((s) => s.seatMapSold > s.seatCount).length;
  oversold.add(Math.max(0, events - sold) + overCapacity);
  console.log(`store: ${sold} seats sold in seat maps, ${events} payment events in the ledger, ${overCapacity} schedules over capacity`);
}
