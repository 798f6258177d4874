import { performance } from 'node:perf_hooks';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  DynamoDbCoordinationStore,
  timeOrderedIds,
} from '../functions/adapters/dynamodb/coordination-store.js';
import { DynamoDbOutbox } from '../functions/adapters/dynamodb/outbox.js';
import { ensureTable } from '../functions/adapters/dynamodb/table-definition.js';
import { applyPlan, type CoordinationPorts } from '../functions/core/coordination/commands.js';
import { acquireLease } from '../functions/core/coordination/leases.js';
import { findConflicts } from '../functions/core/integrations/conflicts.js';
import { handleGithubDelivery } from '../functions/core/integrations/github-events.js';
import { parsePlan } from '../functions/core/plan/index.js';
import { startDynamoDbLocal } from '../functions/local/dynamodb-local.js';
import { type Measurement, measure, report } from './harness.js';

const AGENTS = 20;
const RESOURCES = 200;
const PATHS = 1000;
const RUNS = 7;

/**
 * 200 resources of one glob each (`services/svc-007/**`, and every tenth a `*.sql` glob), owned by
 * 20 agents with a GitHub login each; every resource's owner pushes into its own files.
 */
function benchPlan(project: string, repo: string): string {
  const lines = [
    'version: 1',
    `project: { id: ${project}, timezone: UTC, start: 2026-01-05 }`,
    'people: [{ id: pm }]',
    'agents:',
  ];
  for (let a = 0; a < AGENTS; a++)
    lines.push(`  - { id: agent-${a}, owner: pm, channel: "#agent-${a}", github: [bench-bot-${a}] }`);
  lines.push('resources:');
  for (let r = 0; r < RESOURCES; r++) {
    const glob = r % 10 === 9 ? `db/migrations/${pad(r)}_*.sql` : `services/svc-${pad(r)}/**`;
    lines.push(`  - { id: res-${pad(r)}, owner: agent-${r % AGENTS}, paths: ["${glob}"] }`);
  }
  lines.push(
    'phases:',
    '  - id: build',
    '    tasks:',
    '      - { id: t1, agent: agent-0, estimate: 1d }',
    'integrations:',
    `  github: { repos: [${repo}] }`,
    '  slack: { channel: "#convoy" }',
  );
  return `${lines.join('\n')}\n`;
}

const pad = (n: number) => String(n).padStart(3, '0');

/**
 * A push by agent-0 with 1,000 changed paths over 20 commits: most in its own resources, some in
 * files no resource covers, and one file each in 4 resources of other agents (one of them under an
 * exclusive lease): 4 conflicts to record.
 */
function pushPayload(repo: string, sha: string) {
  const paths: string[] = [];
  const own = Array.from({ length: RESOURCES / AGENTS }, (_, i) => i * AGENTS).filter((r) => r % 10 !== 9);
  for (let i = 0; paths.length < PATHS - 204; i++)
    paths.push(`services/svc-${pad(own[i % own.length] as number)}/src/module-${i}.ts`);
  for (let i = 0; i < 200; i++) paths.push(`docs/page-${i}.md`);
  paths.push('services/svc-001/src/a.ts', 'services/svc-002/src/b.ts', 'db/migrations/019_add.sql');
  paths.push('services/svc-003/src/c.ts');
  const commits = Array.from({ length: 20 }, (_, c) => ({
    id: `${sha}${c}`,
    message: `bench commit ${c}`,
    author: { name: 'bench', username: 'bench-bot-0' },
    added: paths.slice(c * 50, c * 50 + 25),
    modified: paths.slice(c * 50 + 25, c * 50 + 50),
    removed: [],
  }));
  return {
    ref: 'refs/heads/feature/bench',
    after: sha,
    repository: { full_name: repo },
    sender: { login: 'bench-bot-0' },
    pusher: { name: 'bench-bot-0' },
    head_commit: commits.at(-1),
    commits,
    paths,
  };
}

/**
 * Issue #15: a push touching 1,000 paths against a plan of 200 resource globs, on DynamoDB Local —
 * the time from the worker taking the delivery to the conflicts being recorded (audit events, domain
 * events and Slack posts committed). Each run is a fresh project, so no conflict is already open.
 * Also the matching alone (1,000 paths × 200 globs and the leases), in memory.
 */
export async function run(): Promise<boolean> {
  const local = await startDynamoDbLocal();
  try {
    const client = local.client();
    const tableName = 'convoy-bench-conflicts';
    await ensureTable(client, tableName);
    const documentClient = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const store = new DynamoDbCoordinationStore(documentClient, tableName);
    const outbox = new DynamoDbOutbox(documentClient, tableName);
    const ports: CoordinationPorts & { outbox: DynamoDbOutbox } = {
      store,
      outbox,
      clock: { now: () => new Date() },
      ids: timeOrderedIds,
    };
    const times: number[] = [];
    let recorded = 0;
    let matching: Measurement | undefined;
    for (let run = 0; run <= RUNS; run++) {
      // Run 0 warms up (the JIT, DynamoDB Local's first queries) and is not counted.
      const project = `conflicts-${run}`;
      const repo = `bench/repo-${run}`;
      const plan = parsePlan(benchPlan(project, repo));
      if (!plan.ok) throw new Error(plan.errors.map((error) => error.message).join('; '));
      await applyPlan(ports, { project, plan: plan.plan, actor: { kind: 'admin' } });
      const lease = await acquireLease(ports, {
        project,
        actor: { kind: 'agent', id: 'agent-3' },
        resource: 'res-003',
        mode: 'exclusive',
      });
      const { paths, ...payload } = pushPayload(repo, `b${run}`.padEnd(39, '0'));
      if (run === 1) {
        const leases = [lease];
        matching = measure('matching alone (1,000 paths × 200 globs)', () =>
          findConflicts(plan.plan, leases, 'agent-0', paths, new Date()),
        );
      }
      const started = performance.now();
      await handleGithubDelivery(ports, { id: `bench-${run}`, event: 'push', payload });
      const elapsed = performance.now() - started;
      const conflicts = (await store.listEvents(project, { type: 'resource.conflict', limit: 50 })).events;
      if (run > 0) {
        times.push(elapsed);
        recorded = conflicts.length;
      }
    }
    times.sort((a, b) => a - b);
    const delivery: Measurement = {
      name: `push → ${recorded} conflicts recorded (DynamoDB Local)`,
      runs: RUNS,
      medianMs: times[Math.floor(RUNS / 2)] as number,
      minMs: times[0] as number,
      maxMs: times.at(-1) as number,
    };
    const ok = report(
      `Conflicts (#15): a push of ${PATHS.toLocaleString('en')} paths against ${RESOURCES} resource globs (target ≤ 1,000 ms)`,
      [{ measurement: delivery, limitMs: 1000 }, ...(matching ? [matching] : [])],
    );
    if (recorded !== 4) {
      console.log(`  ✗ expected 4 conflicts recorded, found ${recorded}`);
      return false;
    }
    return ok;
  } finally {
    await local.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = (await run()) ? 0 : 1;
