import { run as apiLoad } from './api-load.bench.js';
import { run as bundles } from './bundles.bench.js';
import { run as conflicts } from './conflicts.bench.js';
import { run as dashboard } from './dashboard.bench.js';
import { run as issueKeys } from './issue-keys.bench.js';
import { run as mcp } from './mcp.bench.js';
import { run as planAnalysis } from './plan-analysis.bench.js';
import { run as reports } from './reports.bench.js';
import { run as simulate } from './simulate.bench.js';
import { run as webhooks } from './webhooks.bench.js';

/** Every benchmark, in order; exits non-zero when any misses its target. */
const benches = [
  planAnalysis,
  issueKeys,
  apiLoad,
  mcp,
  bundles,
  webhooks,
  conflicts,
  reports,
  simulate,
  dashboard,
];

let ok = true;
for (const bench of benches) ok = (await bench()) && ok;
console.log(ok ? '\nall targets met' : '\nsome targets were missed');
process.exitCode = ok ? 0 : 1;
