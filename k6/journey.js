// The report's four tests on the real purchase flow: k6 run -e TEST=load|endurance|stress|peak|smoke
// (k6/run TEST does it against the local stack and writes the reports). Thresholds: no failed
// request, p95/p99 bounds (P95_MS, P99_MS), every check passing, no seat oversold.
import { journey, sales, checkOversold } from './lib.js';

const STRESS_MAX = Number(__ENV.STRESS_MAX || 600);
const STRESS_STEP = Number(__ENV.STRESS_STEP || 100);

function stressStages() {
  const stages = [];
  for (let target = STRESS_STEP; target <= STRESS_MAX; target += STRESS_STEP) stages.push({ duration: '20s', target });
  stages.push({ duration: '20s', target: 0 });
  return stages;
}

const STAGES = {
  load: [{ duration: '15s', target: 150 }, { duration: '15s', target: 150 }, { duration: '15s', target: 0 }],
  endurance: [{ duration: '15s', target: 150 }, { duration: '4m', target: 150 }, { duration: '15s', target: 0 }],
  stress: stressStages(),
  peak: [{ duration: '10s', target: 30 }, { duration: '5s', target: 600 }, { duration: '20s', target: 30 }, { duration: '5s', target: 600 }, { duration: '10s', target: 0 }],
  smoke: [{ duration: '2s', target: 5 }, { duration: '6s', target: 5 }, { duration: '2s', target: 0 }],
};
const TEST = __ENV.TEST || 'load';
if (!STAGES[TEST]) throw new Error(`TEST must be one of ${Object.keys(STAGES).join(', ')}`);

export const options = {
  scenarios: { journey: { executor: 'ramping-vus', startVUs: 0, stages: STAGES[TEST], gracefulRampDown: '30s' } },
  thresholds: {
    http_req_failed: ['rate==0'],
    'http_req_duration{kind:api}': [`p(95)<${__ENV.P95_MS || 5}`, `p(99)<${__ENV.P99_MS || 20}`],
    checks: ['rate==1'],
    seats_oversold: ['count==0'],
    // Always true: listed so the summary reports each endpoint's latency on its own.
    ...Object.fromEntries(
      ['signup', 'charge', 'issue-token', 'token-status', 'list-concerts', 'list-seats', 'hold-seat', 'pay', 'balance'].map((n) => [
        `http_req_duration{name:${n}}`,
        ['max>=0'],
      ])
    ),
  },
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  setupTimeout: '30s',
  teardownTimeout: '60s',
};

export function setup() {
  return sales();
}

export default function () {
  journey();
}

export function teardown(before) {
  checkOversold(before);
}
