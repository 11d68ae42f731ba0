// The purchase journey under faults (k6/faults injects them: Redis killed for 5 s, the Kafka
// broker frozen for 10 s). Each fan behaves as a well-made client does: every request answered
// 503 (or not answered) is sent again after its Retry-After, with the same Idempotency-Key where
// the API takes one, until it is acknowledged; so every state change the fans were told about is
// counted here exactly once, and k6/reconcile.py checks the store against these counters.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Counter, Trend } from 'k6/metrics';
import { BASE, sales } from './lib.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const CHARGE = 100000;

export const ackedCharged = new Counter('acked_charged');
export const ackedPaid = new Counter('acked_paid');
export const ackedPayments = new Counter('acked_payments');
export const refused = new Counter('outage_refusals');
export const unanswered = new Counter('outage_unanswered');
export const retryWait = new Trend('retry_wait', true);

export const options = {
  scenarios: {
    journey: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [{ duration: '10s', target: 100 }, { duration: '60s', target: 100 }, { duration: '10s', target: 0 }],
      gracefulRampDown: '60s',
    },
  },
  // 503s are expected during the outage; what must hold is checked after the run.
  thresholds: { checks: ['rate==1'] },
  summaryTrendStats: ['avg', 'med', 'max', 'p(95)', 'p(99)'],
  setupTimeout: '30s',
  teardownTimeout: '60s',
};

// Every answer but a 503 counts (a 4xx is the journey's business); 503 and no answer are retried.
const anyAnswer = http.expectedStatuses({ min: 200, max: 502 }, { min: 504, max: 599 });

function send(method, path, body, headers, name) {
  const started = Date.now();
  for (;;) {
    const res = http.request(method, `${BASE}${path}`, body === null ? null : JSON.stringify(body), {
      headers,
      tags: { name, kind: 'api' },
      responseCallback: anyAnswer,
      timeout: '10s',
    });
    if (res.status !== 503 && res.status !== 0) {
      if (Date.now() - started > 50) retryWait.add(Date.now() - started, { name });
      return res;
    }
    if (res.status === 503) refused.add(1, { name });
    else unanswered.add(1, { name });
    check(res, { 'a 503 carries Retry-After': (r) => r.status !== 503 || r.headers['Retry-After'] !== undefined });
    sleep(Number(res.headers['Retry-After'] || 1));
  }
}

export function setup() {
  return sales();
}

export default function () {
  const tag = `${__VU}-${__ITER}-${Date.now()}`;
  const signup = send('POST', '/users', { name: `k6f-${tag}` }, JSON_HEADERS, 'signup');
  if (!check(signup, { 'signup 201': (r) => r.status === 201 })) return;
  const auth = { ...JSON_HEADERS, authorization: `Bearer ${signup.json('accessToken')}` };
  const charged = send('POST', '/users/me/balance', { amount: CHARGE }, { ...auth, 'idempotency-key': `charge-${tag}` }, 'charge');
  if (!check(charged, { 'charge 200': (r) => r.status === 200 })) return;
  ackedCharged.add(CHARGE);

  const concerts = send('GET', '/concerts', null, {}, 'list-concerts');
  const open = [];
  for (const c of concerts.json('concerts')) {
    if (c.roomStatus !== 'OPEN') continue;
    for (const s of c.schedules) if (s.availableSeats > 0) open.push([c.concertId, s.scheduleId]);
  }
  if (open.length === 0) return;
  const [concertId, scheduleId] = open[Math.floor(Math.random() * open.length)];
  sleep(1);
  const issued = send('POST', '/queue/tokens', { concertId }, auth, 'issue-token');
  if (issued.status === 409) return; // sold out since the catalog was read
  if (!check(issued, { 'issue-token 200/201': (r) => r.status === 201 || r.status === 200 })) return;
  const both = { ...auth, 'queue-token': issued.json('queueToken') };
  let status = issued.json('status');
  while (status !== 'ACTIVE') {
    if (status === 'SOLD_OUT') return;
    sleep(Number(issued.headers['Retry-After'] || 1));
    const res = send('GET', '/queue/tokens/current', null, both, 'token-status');
    if (!check(res, { 'token-status 200': (r) => r.status === 200 })) return;
    status = res.json('status');
  }

  const seats = send('GET', `/concerts/${concertId}/schedules/${scheduleId}/seats?status=AVAILABLE`, null, both, 'list-seats');
  if (!check(seats, { 'list-seats 200': (r) => r.status === 200 })) return;
  const available = seats.json('seats').map((s) => s.number);
  let reservation = null;
  for (let attempt = 0; attempt < 3 && available.length > 0 && !reservation; attempt++) {
    const seat = available.splice(Math.floor(Math.random() * available.length), 1)[0];
    const res = send('POST', '/reservations', { scheduleId, seatNumber: seat }, both, 'hold-seat');
    check(res, { 'hold-seat 200/201/409': (r) => [200, 201, 409].includes(r.status) });
    if (res.status === 201 || res.status === 200) reservation = res.json();
  }
  if (!reservation) return;
  sleep(1);
  const key = { ...both, 'idempotency-key': `pay-${reservation.reservationId}` };
  const paid = send('POST', '/payments', { reservationId: reservation.reservationId }, key, 'pay');
  if (!check(paid, { 'pay 200/201': (r) => r.status === 201 || r.status === 200 })) return;
  ackedPayments.add(1);
  ackedPaid.add(paid.json('amount'));
}

export function teardown(before) {
  // Kafka delivers the last events within seconds; k6/reconcile.py compares the rest.
  let after = sales();
  for (let i = 0; i < 30 && after.soldSeats - before.soldSeats < after.seatMapSold - before.seatMapSold; i++) {
    sleep(1);
    after = sales();
  }
  console.log(JSON.stringify({ ledgerSold: after.soldSeats - before.soldSeats, seatMapSold: after.seatMapSold - before.seatMapSold, ledgerRevenue: after.revenue - before.revenue }));
}
