// Capacity with the open model: journeys arrive at a fixed rate whatever the latency, stepped up
// (RATES, per second, STEP each) until the booking endpoints' p95 passes P95_MS. Each step's
// latency is tagged `step`, so the summary gives one p95 per arrival rate.
import { journey, sales, checkOversold } from './lib.js';

const RATES = (__ENV.RATES || '10,20,40,80,160').split(',').map(Number);
const STEP = __ENV.STEP || '20s';

const stages = [];
for (const rate of RATES) stages.push({ duration: '2s', target: rate }, { duration: STEP, target: rate });
const stepSeconds = parseInt(STEP, 10);

export const options = {
  scenarios: {
    journeys: {
      executor: 'ramping-arrival-rate',
      startRate: RATES[0],
      timeUnit: '1s',
      preAllocatedVUs: Number(__ENV.VUS || 2000),
      maxVUs: Number(__ENV.MAX_VUS || 6000),
      stages,
    },
  },
  thresholds: Object.fromEntries(
    RATES.flatMap((r) => [
      [`http_req_duration{kind:api,step:${r}}`, [`p(95)<${__ENV.P95_MS || 5}`]],
      [`http_reqs{step:${r}}`, ['count>=0']],
    ]).concat([['seats_oversold', ['count==0']], ['dropped_iterations', ['count>=0']]])
  ),
  summaryTrendStats: ['avg', 'med', 'p(95)', 'p(99)', 'max'],
  teardownTimeout: '60s',
};

export function setup() {
  return { before: sales(), started: Date.now() };
}

export default function (data) {
  // The step this iteration started in, from the time since the test began.
  const elapsed = (Date.now() - data.started) / 1000;
  const index = Math.min(RATES.length - 1, Math.floor(elapsed / (stepSeconds + 2)));
  journey({ step: String(RATES[index]) });
}

export function teardown(data) {
  checkOversold(data.before);
}
