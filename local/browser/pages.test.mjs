// The fan's page and the operator's console in a real browser: Debian's headless Chromium driven
// through playwright-core (no browser download), against the local gateway at BASE_URL.
// `local/browser-test` starts the stack and runs this with `node --test`. Each test makes its own
// concerts through the admin API, so it needs nothing seeded. Screenshots of every screen, at
// phone and desktop widths, go to docs/screens/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL || 'http://127.0.0.1:3000';
const ADMIN_KEY = process.env.ADMIN_KEY || 'local-admin-key';
const SCREENS = new URL('../../docs/screens/', import.meta.url).pathname;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => browser && (await browser.close()));

async function api(method, path, { body, headers = {} } = {}) {
  const res = await fetch(BASE + path, { method, headers: { 'content-type': 'application/json', ...headers }, body: body && JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  return { status: res.status, data };
}
const admin = { 'x-admin-key': ADMIN_KEY };

/// The room's challenge solved in Node (the members a join adds), as a script would.
async function passTheDoor(concertId) {
  const { data } = await api('GET', `/concerts/${concertId}/challenge`);
  if (!data.required) return {};
  for (let n = 0; ; n++) {
    const hash = createHash('sha256').update(`${data.challenge}:${n}`).digest();
    let zeros = 0;
    for (const byte of hash) { if (byte) { zeros += Math.clz32(byte) - 24; break; } zeros += 8; }
    if (zeros >= data.bits) return { challenge: data.challenge, nonce: String(n) };
  }
}

async function concert(title, seats) {
  const startsAt = new Date(Date.now() + 30 * 86400000).toISOString();
  const { status, data } = await api('POST', '/admin/concerts', { headers: admin, body: { title, venue: 'Browser Hall', schedules: [{ startsAt, price: 30000, seatCount: seats }] } });
  assert.equal(status, 201, JSON.stringify(data));
  return data;
}

/// Screenshots of the page as it is, at phone and desktop widths.
async function shoot(page, name) {
  for (const [label, size] of [['phone', PHONE], ['desktop', DESKTOP]]) {
    await page.setViewportSize(size);
    await page.screenshot({ path: `${SCREENS}${name}-${label}.png`, fullPage: true });
  }
}

async function fanPage() {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  page.on('pageerror', (e) => assert.fail(`page error: ${e.message}`));
  await page.goto(`${BASE}/`);
  return page;
}

async function signUpAndTopUp(page, name) {
  await page.fill('#name', name);
  await page.click('#signup-form button[type=submit]');
  await page.waitForSelector('#wallet:not([hidden])');
  await page.fill('#amount', '100000');
  await page.click('#topup-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('balance').textContent.includes('100,000'));
}

const visible = (page, id, timeout = 20000) => page.waitForSelector(`#${id}:not([hidden])`, { timeout });

/// A new fan with money in the line of `c`'s paused room, told that it is paused.
async function fanInPausedLine(c, name) {
  const fan = await fanPage();
  await fan.waitForSelector(`button[data-concert="${c.concertId}"]`);
  await signUpAndTopUp(fan, name);
  await fan.click(`button[data-concert="${c.concertId}"]`);
  await visible(fan, 'line');
  await fan.waitForFunction(() => document.getElementById('line-state').textContent.includes('paused'));
  return fan;
}

test('a fan signs up, tops up, joins the line, picks a seat, pays and sees the ticket', async () => {
  const c = await concert(`Browser Live ${Date.now()}`, 12);
  const page = await fanPage();
  await page.waitForSelector(`button[data-concert="${c.concertId}"]`);
  await signUpAndTopUp(page, 'Kim');
  await shoot(page, 'catalog');
  await page.click(`button[data-concert="${c.concertId}"]`);
  await visible(page, 'booking');
  await page.waitForSelector('.seat.AVAILABLE');
  await page.click('.seat.AVAILABLE >> nth=4');
  await page.waitForSelector('#holds button');
  assert.match(await page.textContent('#notice'), /Seat 5 is yours/);
  await shoot(page, 'seat-map');
  await page.click('#holds button');
  await visible(page, 'tickets');
  assert.match(await page.textContent('#ticket-list'), /Seat 5/);
  assert.match(await page.textContent('#notice'), /Paid/);
  assert.match(await page.textContent('#balance'), /70,000 won/);
  await shoot(page, 'tickets');
  // A reload keeps the account (the tokens live in the browser's storage).
  await page.reload();
  await page.waitForFunction(() => document.getElementById('who').textContent.includes('Kim'));
  await page.context().close();
});

test('an operator pauses a room, the waiting fan sees it, then resumes and the fan is admitted', async () => {
  const c = await concert(`Paused Live ${Date.now()}`, 12);
  const context = await browser.newContext({ viewport: DESKTOP });
  const console_ = await context.newPage();
  console_.on('pageerror', (e) => assert.fail(`console error: ${e.message}`));
  await console_.goto(`${BASE}/admin?concert=${c.concertId}`);
  await console_.fill('#key', 'wrong-key');
  await console_.click('#key-form button');
  await console_.waitForSelector('#error:not([hidden])');
  assert.match(await console_.textContent('#error'), /INVALID_ADMIN_KEY/);
  await console_.fill('#key', ADMIN_KEY);
  await console_.click('#key-form button');
  await console_.waitForSelector('#console:not([hidden])');
  await console_.click('#pause');
  await console_.waitForFunction(() => document.getElementById('answer').textContent.includes('"paused": "1"'));
  await console_.waitForFunction(() => document.getElementById('room-status').textContent === 'PAUSED');

  const fan = await fanInPausedLine(c, 'Lee');
  assert.equal(await fan.textContent('#position'), '1');
  await shoot(fan, 'line-paused');
  // A reload keeps the place: the tokens live in the browser's storage.
  await fan.reload();
  await visible(fan, 'line');
  await fan.waitForFunction(() => document.getElementById('position').textContent === '1');
  await console_.waitForFunction(() => document.querySelectorAll('.tile')[0]?.textContent.startsWith('1'));
  // The autopilot: the operator sets its target and turns it on; the console shows its state.
  await console_.fill('#targetP95Ms', '40');
  await console_.click('#autopilot-form button[type=submit]');
  await console_.waitForFunction(() => document.getElementById('answer').textContent.includes('"targetP95Ms": "40"'));
  await console_.click('#autopilot-on');
  await console_.waitForFunction(() => document.getElementById('answer').textContent.includes('"autopilot": "1"'));
  await console_.waitForFunction(() => /^On, waiting for the room to resume .*Target 40 ms/.test(document.getElementById('autopilot-summary').textContent));
  await shoot(console_, 'operator-console');

  await console_.click('#resume');
  await console_.waitForFunction(() => document.getElementById('answer').textContent.includes('"paused": "0"'));
  // The fan's page asks again when Retry-After says (10 s while paused) and is let in, the
  // autopilot's first decision (its start limit) admitting the line's first fans.
  await visible(fan, 'booking', 30000);
  await console_.waitForFunction(() => document.getElementById('decisions').children.length > 0, null, { timeout: 15000 });
  assert.match(await console_.textContent('#decisions'), /START|TOO_FEW_SAMPLES|HEADROOM|LINE_EMPTY/);
  // The report: the fan who joined and was let in, and the queue wait's bars.
  await console_.click('#report-load');
  await console_.waitForSelector('#report:not([hidden])');
  assert.equal(await console_.textContent('#report-tiles [data-figure="joined"] .v'), '1');
  assert.equal(await console_.textContent('#report-tiles [data-figure="admitted"] .v'), '1');
  await context.close();
  await fan.context().close();
});

test('far back in a paused line the fan follows the public state, and asks for itself once its turn could come', async () => {
  const c = await concert(`Slow Live ${Date.now()}`, 12);
  // Paused, and nobody let in per tick: however near the front, no fan's turn could come soon.
  const paused = await api('PATCH', `/admin/concerts/${c.concertId}/room`, { headers: admin, body: { paused: true, admitPerTick: 0 } });
  assert.equal(paused.status, 200, JSON.stringify(paused.data));
  const fan = await fanInPausedLine(c, 'Max');
  // It read the room's public state (the same for everyone: a CDN answers it) and keeps to it.
  await fan.waitForFunction(() => document.getElementById('next-check').textContent.startsWith('Following the line'), null, { timeout: 15000 });
  await new Promise((resolve) => setTimeout(resolve, 6000));
  assert.match(await fan.textContent('#next-check'), /^Following the line/);
  // Twelve seats and one fan: the chance from the public state, in plain words.
  await fan.waitForFunction(() => document.getElementById('chance').dataset.chance === 'LIKELY', null, { timeout: 15000 });
  assert.match(await fan.textContent('#chance'), /likely to get tickets: about 12 seats are left/);
  // Resumed at one a tick: its turn is a second away, so it asks for its own status and is let in.
  const resumed = await api('PATCH', `/admin/concerts/${c.concertId}/room`, { headers: admin, body: { paused: false, admitPerTick: 1 } });
  assert.equal(resumed.status, 200, JSON.stringify(resumed.data));
  await visible(fan, 'booking', 30000);
  await fan.context().close();
});

test('in a long pre-queue the fan follows the public state, and asks for itself from a minute before the opening', async () => {
  const now = Date.now();
  const startsAt = new Date(now + 30 * 86400000).toISOString();
  const body = { title: `Pre-queue Live ${now}`, venue: 'Browser Hall', prequeueOpensAt: new Date(now).toISOString(), opensAt: new Date(now + 600000).toISOString(), schedules: [{ startsAt, price: 30000, seatCount: 12 }] };
  const { status, data: c } = await api('POST', '/admin/concerts', { headers: admin, body });
  assert.equal(status, 201, JSON.stringify(c));
  const fan = await fanPage();
  await fan.waitForSelector(`button[data-concert="${c.concertId}"]`);
  await signUpAndTopUp(fan, 'Ana');
  await fan.click(`button[data-concert="${c.concertId}"]`);
  await visible(fan, 'line');
  await fan.waitForFunction(() => document.getElementById('line-state').textContent.includes('pre-queue'));
  // The lottery's commitment, published before the draw, and how to check it.
  const committed = await api('GET', `/concerts/${c.concertId}/lottery`);
  assert.equal(committed.data.status, 'COMMITTED', JSON.stringify(committed.data));
  await fan.waitForFunction((prefix) => document.getElementById('lottery').textContent.includes(prefix), committed.data.commitment.slice(0, 16));
  assert.match(await fan.textContent('#lottery'), /local\/verify-lottery/);
  // Ten minutes to the opening: it keeps to the public state (a CDN answers it).
  await fan.waitForFunction(() => document.getElementById('next-check').textContent.startsWith('Following the line'));
  await new Promise((resolve) => setTimeout(resolve, 6000));
  assert.match(await fan.textContent('#next-check'), /^Following the line/);
  // The operator brings the opening forward: the page sees it in the public state, asks for its
  // own status until the order is drawn, and is let in.
  const moved = await api('PATCH', `/admin/concerts/${c.concertId}/room`, { headers: admin, body: { opensAt: new Date(Date.now() + 12000).toISOString() } });
  assert.equal(moved.status, 200, JSON.stringify(moved.data));
  await fan.waitForFunction(() => document.getElementById('next-check').textContent.startsWith('Next check'), null, { timeout: 15000 });
  await visible(fan, 'booking', 45000);
  await fan.context().close();
});

test('a sold-out room shows its own screen to the fans still in line', async () => {
  const c = await concert(`Tiny Live ${Date.now()}`, 1);
  // A buyer through the API takes the only seat's place first.
  const { data: buyer } = await api('POST', '/users', { body: { name: 'Buyer' } });
  const auth = { authorization: `Bearer ${buyer.accessToken}` };
  await api('POST', '/users/me/balance', { headers: auth, body: { amount: 100000 } });
  const door = await passTheDoor(c.concertId);
  const { data: token } = await api('POST', '/queue/tokens', { headers: auth, body: { concertId: c.concertId, ...door } });
  const both = { ...auth, 'queue-token': token.queueToken };
  for (let i = 0; i < 50; i++) {
    const { data } = await api('GET', '/queue/tokens/current', { headers: both });
    if (data.status === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  // The fan joins behind: one seat, so admission waits for it.
  const fan = await fanPage();
  await fan.waitForSelector(`button[data-concert="${c.concertId}"]`);
  await signUpAndTopUp(fan, 'Park');
  await fan.click(`button[data-concert="${c.concertId}"]`);
  await visible(fan, 'line');
  const { status: held, data: hold } = await api('POST', '/reservations', { headers: both, body: { scheduleId: c.schedules[0].scheduleId, seatNumber: 1 } });
  assert.equal(held, 201);
  const { status: paid } = await api('POST', '/payments', { headers: both, body: { reservationId: hold.reservationId } });
  assert.equal(paid, 201);
  await visible(fan, 'soldout', 30000);
  assert.match(await fan.textContent('#soldout'), /Every seat of .*Tiny Live/);
  await shoot(fan, 'sold-out');
  // The catalog shows it too, and a new fan cannot join.
  await fan.click('#soldout .back');
  await fan.waitForFunction((id) => document.querySelector(`button[data-concert="${id}"]`)?.disabled, c.concertId);
  await fan.context().close();
});

test('the door: the page solves the room\'s challenge in a Web Worker, in about a second at the default difficulty', async () => {
  const c = await concert(`Door Live ${Date.now()}`, 10);
  const page = await fanPage();
  await page.waitForSelector(`button[data-concert="${c.concertId}"]`);
  // Seven fresh challenges, solved as the page solves them before a join.
  const runs = [];
  for (let i = 0; i < 7; i++) {
    const { data } = await api('GET', `/concerts/${c.concertId}/challenge`);
    assert.equal(data.required, true, JSON.stringify(data));
    const nonce = await page.evaluate(({ challenge, bits }) => solve(challenge, bits), data);
    const zeros = [...createHash('sha256').update(`${data.challenge}:${nonce}`).digest()].reduce(
      (acc, byte) => (acc.done ? acc : byte ? { n: acc.n + Math.clz32(byte) - 24, done: true } : { n: acc.n + 8, done: false }),
      { n: 0, done: false },
    ).n;
    assert.ok(zeros >= data.bits, `nonce ${nonce} has ${zeros} zero bits, ${data.bits} asked`);
    runs.push({ bits: data.bits, ...(await page.evaluate(() => window.lastSolve)) });
  }
  const times = runs.map((r) => r.ms).sort((a, b) => a - b);
  const median = times[3];
  console.log(`door: ${runs[0].bits} bits, solve time median ${median.toFixed(0)} ms (min ${times[0].toFixed(0)}, max ${times[6].toFixed(0)}), ${(runs.reduce((n, r) => n + r.hashes, 0) / runs.reduce((n, r) => n + r.ms, 0)).toFixed(0)} hashes/ms`);
  assert.ok(median <= 1000, `median solve ${median} ms`);
  // And a fan joining through the page passes the door.
  await signUpAndTopUp(page, 'Lee');
  await page.click(`button[data-concert="${c.concertId}"]`);
  await visible(page, 'booking');
  assert.ok((await page.evaluate(() => window.lastSolve)).hashes > 0);
  await page.context().close();
});
