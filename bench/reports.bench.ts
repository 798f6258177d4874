import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { renderBurndownPng } from '../functions/adapters/chart/burndown-png.js';
import {
  DynamoDbCoordinationStore,
  timeOrderedIds,
} from '../functions/adapters/dynamodb/coordination-store.js';
import { keys } from '../functions/adapters/dynamodb/keys.js';
import { ensureTable } from '../functions/adapters/dynamodb/table-definition.js';
import { renderBlocks } from '../functions/adapters/slack/report-blocks.js';
import {
  applyPlan,
  type CoordinationPorts,
  recordHandoff,
  recordHeartbeat,
  recordMetrics,
  setBlocker,
  transitionTask,
} from '../functions/core/coordination/commands.js';
import type { AuditEvent, Risk } from '../functions/core/coordination/model.js';
import { type Plan, parsePlan } from '../functions/core/plan/index.js';
import {
  buildReport,
  forAgent,
  mulberry32,
  type ReportBlock,
  type ReportDocument,
  type ReportKind,
  renderMarkdown,
} from '../functions/core/reports/index.js';
import { produceReport } from '../functions/core/rhythm/jobs.js';
import { loadReportContext } from '../functions/core/rhythm/report-context.js';
import { startDynamoDbLocal } from '../functions/local/dynamodb-local.js';
import { type Measurement, report } from './harness.js';

/**
 * Issue #5: "A status report for a plan of 1,000 tasks and 50 agents with 30 days of history renders
 * in under a second including its DynamoDB reads — a bounded number of queries, never one per task."
 *
 * DynamoDB Local (in memory) gets a generated plan of 1,000 tasks in five chained phases for 50
 * agents, and 30 days of history written through the real use cases and store: every finished task
 * moved todo → in_progress (→ in_review) → done at its own time, work in progress and blockers in
 * the active phase, handoffs, merged PRs and CI runs, heartbeats, and ten metrics with a point an
 * hour. Then each kind of report is produced from the table (reads + build) and rendered (Slack
 * blocks, Markdown, the burndown PNG), timed over several runs after a warm-up, and the DynamoDB
 * requests of one report are counted by command and by what they read, beside those of the same
 * history for a 100-task plan: the count must not grow with the tasks.
 *
 * Run alone with `npx tsx bench/reports.bench.ts`; CONVOY_BENCH_REPORT_RUNS sets the runs (10).
 */

const LIMIT_MS = 1_000;
const RUNS = Math.max(1, Number(process.env.CONVOY_BENCH_REPORT_RUNS ?? 10) || 10);
const AGENTS = 50;
const PEOPLE = 10;
const PHASES = 5;
const HISTORY_DAYS = 30;
/** Share of the tasks done (phases 0 and 1 passed, phase 2 half done) and in progress. */
const DONE_SHARE = 0.5;
const ACTIVE_SHARE = 0.06;
const METRICS = [
  'tps',
  'latency.p99_ms',
  'error_rate',
  'coverage.unit',
  'coverage.integration',
  'build.failure_rate',
  'tests.integration.failed',
  'issues.critical',
  'queue.depth',
  'deploys.count',
] as const;
const REPO = 'bench-org/convoy-reports';
/** Requests in flight while seeding (DynamoDB Local and this process share the machine's CPUs). */
const SEED_CONCURRENCY = 24;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const KINDS: readonly ReportKind[] = ['report', 'standup', 'sync', 'weekly-summary'];

const pad = (n: number, width = 4) => String(n).padStart(width, '0');
const iso = (ms: number) => new Date(ms).toISOString();
const fmt = (n: number) => n.toLocaleString('en-US');

/** At most `limit` of the calls run at once. */
function limiter(limit: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(call: () => Promise<T>): Promise<T> => {
    // A finished call hands its slot straight to the next waiting one.
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await call();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// DynamoDB requests, counted by a middleware on the client every store call goes through.

interface RequestLog {
  /** By command: `Query 12`. */
  readonly commands: Map<string, number>;
  /** By what was read: `events`, `metric series` …; continuation pages counted apart. */
  readonly targets: Map<string, number>;
  requests: number;
  /** Requests that were a further page of a query (ExclusiveStartKey set). */
  pages: number;
}

const newLog = (): RequestLog => ({ commands: new Map(), targets: new Map(), requests: 0, pages: 0 });

function targetOf(input: Record<string, unknown>): string {
  const values = input.ExpressionAttributeValues as Record<string, unknown> | undefined;
  const key = input.Key as { pk?: unknown } | undefined;
  const pk = String(values?.[':pk'] ?? key?.pk ?? '');
  if (pk.endsWith('#EVENTS')) return 'events';
  if (pk.endsWith('#HANDOFFS')) return 'handoffs';
  if (pk.includes('#METRIC#')) return 'metric series';
  if (pk.endsWith('#PLANS')) return 'plan body';
  if (/^PROJECT#[^#]+$/.test(pk)) return 'project state';
  return pk ? pk.split('#')[0]?.toLowerCase() || 'other' : 'other';
}

/** Counts every command sent through `client` (and document clients made from it) into `current()`. */
function countRequests(client: DynamoDBClient, current: () => RequestLog | undefined): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const log = current();
      if (log) {
        const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const input = args.input as Record<string, unknown>;
        const continued = input.ExclusiveStartKey !== undefined;
        log.requests++;
        if (continued) log.pages++;
        log.commands.set(command, (log.commands.get(command) ?? 0) + 1);
        const target = `${targetOf(input)}${continued ? ' (next page)' : ''}`;
        log.targets.set(target, (log.targets.get(target) ?? 0) + 1);
      }
      return next(args);
    },
    { step: 'initialize', name: 'convoyBenchRequestCounter' },
  );
}

const describeLog = (log: RequestLog) =>
  `${log.requests} requests (${[...log.commands].map(([command, n]) => `${n} ${command}`).join(', ')}): ` +
  [...log.targets]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([target, n]) => `${target} ${n}`)
    .join(', ');

// ---------------------------------------------------------------------------------------------
// The plan.

interface Scenario {
  readonly project: string;
  readonly plan: Plan;
  readonly taskIds: readonly string[];
  readonly agentOf: readonly string[];
  readonly phaseOf: readonly number[];
  readonly deps: readonly (readonly number[])[];
}

/**
 * `taskCount` tasks in five chained phases; phases 2-4 have gates (phases 0 and 1 pass once their
 * tasks are done). Task i belongs to agent i mod 50. Within a phase, tasks come in blocks of a tenth
 * of the phase, and a task depends on its agent's previous task and up to two random tasks of
 * earlier blocks of its phase (sometimes one of the previous phase): never on a task of its own
 * block, so a block's tasks can run in parallel.
 */
function benchScenario(project: string, taskCount: number, now: number): Scenario {
  const next = mulberry32(taskCount * 7919);
  const start = iso(now - (HISTORY_DAYS + 1) * DAY).slice(0, 10);
  const perPhase = Math.ceil(taskCount / PHASES);
  const block = Math.max(2, Math.floor(perPhase / 10));
  const estimates = ['4h', '1d', '1d', '2d', '2d', '3d', '1w'];
  const taskIds: string[] = [];
  const agentOf: string[] = [];
  const phaseOf: number[] = [];
  const deps: number[][] = [];
  const lastOfAgent = new Map<string, number>();
  const phases = Array.from({ length: PHASES }, (_, p) => ({
    id: `phase-${p}`,
    name: `Phase ${p}: ${['foundation', 'services', 'integration', 'hardening', 'launch'][p]}`,
    due: iso(now + (p - 2) * 8 * DAY).slice(0, 10),
    ...(p > 0 ? { dependsOn: [`phase-${p - 1}`] } : {}),
    ...(p >= 2 ? { gate: `gate-${p}` } : {}),
    tasks: [] as Record<string, unknown>[],
  }));
  for (let i = 0; i < taskCount; i++) {
    const p = Math.floor(i / perPhase);
    const phaseStart = p * perPhase;
    const blockStart = phaseStart + Math.floor((i - phaseStart) / block) * block;
    const agent = `agent-${pad(i % AGENTS, 2)}`;
    const dependsOn = new Set<number>();
    const previous = lastOfAgent.get(agent);
    if (previous !== undefined && previous < blockStart && next() < 0.6) dependsOn.add(previous);
    const extra = Math.floor(next() * 3);
    for (let e = 0; e < extra && blockStart > phaseStart; e++)
      dependsOn.add(phaseStart + Math.floor(next() * (blockStart - phaseStart)));
    if (p > 0 && next() < 0.1) dependsOn.add(phaseStart - 1 - Math.floor(next() * perPhase));
    lastOfAgent.set(agent, i);
    const id = `task-${pad(i)}`;
    taskIds.push(id);
    agentOf.push(agent);
    phaseOf.push(p);
    deps.push([...dependsOn].sort((a, b) => a - b));
    phases[p]?.tasks.push({
      id,
      title: `Task ${i}: ${['API', 'schema', 'worker', 'UI', 'migration', 'tests'][i % 6]} for area ${i % 37}`,
      agent,
      estimate: estimates[Math.floor(next() * estimates.length)],
      ...(dependsOn.size > 0
        ? { dependsOn: [...dependsOn].sort((a, b) => a - b).map((d) => `task-${pad(d)}`) }
        : {}),
      ...(i % 9 === 0 ? { deliverables: [`Deliverable of task ${i}`] } : {}),
    });
  }
  const data = {
    version: 1,
    project: {
      id: project,
      name: `Reports bench (${fmt(taskCount)} tasks)`,
      timezone: 'Europe/Berlin',
      start,
    },
    people: Array.from({ length: PEOPLE }, (_, n) => ({
      id: `person-${pad(n, 2)}`,
      name: `Person ${n}`,
      slack: `U0PERSON${pad(n, 2)}`,
    })),
    agents: Array.from({ length: AGENTS }, (_, a) => ({
      id: `agent-${pad(a, 2)}`,
      name: `Agent ${a}`,
      owner: `person-${pad(a % PEOPLE, 2)}`,
      backup: `person-${pad((a + 1) % PEOPLE, 2)}`,
      channel: `#agent-${pad(a, 2)}`,
      heartbeat: '15m',
      restartSla: '1h',
    })),
    phases,
    gates: [2, 3, 4].map((p) => ({
      id: `gate-${p}`,
      criteria: [
        { go: 'tps >= 2000000', caution: 'tps >= 1500000' },
        { go: 'coverage.unit >= 80' },
        { go: 'coverage.integration >= 70' },
        { go: 'issues.critical == 0' },
        { go: 'latency.p99_ms <= 250' },
      ],
      approvers: ['person-00', 'person-01'],
    })),
    escalations: [
      { id: 'coverage-below-70', when: 'coverage.integration < 70', notify: ['person-02'] },
      { id: 'security', on: 'security.critical', notify: ['person-00', 'owner'] },
    ],
    handoff: ['tests pass', 'docs updated', 'next agent briefed'],
    integrations: { slack: { channel: '#convoy-bench' }, github: { repos: [REPO] } },
  };
  const parsed = parsePlan(JSON.stringify(data), { file: `${project}.json` });
  if (!parsed.ok) throw new Error(`the benchmark plan is invalid: ${JSON.stringify(parsed.errors[0])}`);
  return { project, plan: parsed.plan, taskIds, agentOf, phaseOf, deps };
}

// ---------------------------------------------------------------------------------------------
// The history, written through the use cases, each call with a clock fixed at its own time.

interface SeedSummary {
  readonly done: number;
  readonly inProgress: number;
  readonly inReview: number;
  readonly blocked: number;
  readonly handoffs: number;
  readonly metricPoints: number;
}

async function seed(base: CoordinationPorts, scenario: Scenario, now: number): Promise<SeedSummary> {
  const { project, plan, taskIds, agentOf, phaseOf, deps } = scenario;
  const next = mulberry32(taskIds.length * 104_729);
  const limit = limiter(SEED_CONCURRENCY);
  const at = (time: number): CoordinationPorts => ({ ...base, clock: { now: () => new Date(time) } });
  const agent = (i: number) => ({ kind: 'agent', id: agentOf[i] as string }) as const;
  const historyStart = now - HISTORY_DAYS * DAY;

  await applyPlan(at(historyStart - HOUR), { project, plan, actor: { kind: 'admin' } });

  // Finished tasks: the first half in plan order, done at increasing times over 30 days.
  const doneCount = Math.round(taskIds.length * DONE_SHARE);
  const span = (HISTORY_DAYS - 0.25) * DAY;
  const doneAt = Array.from(
    { length: doneCount },
    (_, k) => historyStart + ((k + next()) / doneCount) * span,
  );
  const phaseOpen = new Map<number, number>([[0, historyStart]]);
  for (let k = 1; k < doneCount; k++)
    if (phaseOf[k] !== phaseOf[k - 1])
      phaseOpen.set(phaseOf[k] as number, (doneAt[k - 1] as number) + 60_000);
  const startOf = (i: number, end: number) => {
    const ready = Math.max(
      phaseOpen.get(phaseOf[i] as number) ?? historyStart,
      ...(deps[i] ?? []).map((d) => (doneAt[d] ?? historyStart) + 60_000),
    );
    const wanted = end - (2 * HOUR + next() * 3 * DAY);
    return Math.min(Math.max(wanted, ready), end - 3 * 60_000);
  };

  // Each task's moves wait for its predecessors and for every task of the previous phase (whose last
  // one to finish opens this phase), and then run at their own times.
  const finished: Promise<void>[] = [];
  const phaseDone = new Map<number, Promise<void>[]>();
  for (let i = 0; i < doneCount; i++) {
    const p = phaseOf[i] as number;
    const waitFor = [
      ...(deps[i] ?? []).map((d) => finished[d]),
      ...(p > 0 ? (phaseDone.get(p - 1) ?? []) : []),
    ];
    const end = doneAt[i] as number;
    const started = startOf(i, end);
    const review = next() < 0.8 ? started + (end - started) * 0.7 : undefined;
    const move = (time: number, to: 'in_progress' | 'in_review' | 'done', note?: string) =>
      limit(() =>
        transitionTask(at(time), {
          project,
          task: taskIds[i] as string,
          to,
          actor: agent(i),
          ...(note ? { note } : {}),
        }),
      );
    const work = (async () => {
      await Promise.all(waitFor);
      await move(started, 'in_progress');
      if (review !== undefined) await move(review, 'in_review', `PR #${i} opened`);
      await move(end, 'done', review === undefined ? undefined : `PR #${i} merged`);
    })();
    finished.push(work);
    phaseDone.set(p, [...(phaseDone.get(p) ?? []), work]);
  }
  await Promise.all(finished);

  // Work in progress: tasks after the finished ones whose predecessors are all done.
  const activeTarget = Math.round(taskIds.length * ACTIVE_SHARE);
  const active: number[] = [];
  for (let i = doneCount; i < taskIds.length && active.length < activeTarget; i++)
    if (phaseOf[i] === phaseOf[doneCount - 1] && (deps[i] ?? []).every((d) => d < doneCount)) active.push(i);
  let inReview = 0;
  let blocked = 0;
  await Promise.all(
    active.map(async (i, n) => {
      const started = startOf(i, now - 10 * 60_000 - next() * 2 * DAY);
      await limit(() =>
        transitionTask(at(started), {
          project,
          task: taskIds[i] as string,
          to: 'in_progress',
          actor: agent(i),
        }),
      );
      if (n % 5 === 1 || n % 5 === 3) {
        await limit(() =>
          transitionTask(at(started + (now - started) * 0.6), {
            project,
            task: taskIds[i] as string,
            to: 'in_review',
            actor: agent(i),
            note: `PR #${i} opened`,
          }),
        );
        inReview++;
      } else if (n % 4 === 0) {
        const when = started + (now - started) * 0.5;
        const reason = `Waiting on <vendor> & team ${i % 7}: quota request *${1000 + i}*`;
        await limit(() =>
          setBlocker(at(when), { project, task: taskIds[i] as string, reason, actor: agent(i) }),
        );
        if (n % 8 === 0) {
          // Lifted and raised again: the trail has both.
          await limit(() =>
            setBlocker(at(when + (now - when) / 3), {
              project,
              task: taskIds[i] as string,
              reason: null,
              actor: agent(i),
            }),
          );
          await limit(() =>
            setBlocker(at(when + ((now - when) * 2) / 3), {
              project,
              task: taskIds[i] as string,
              reason: `${reason} (again)`,
              actor: agent(i),
            }),
          );
        }
        blocked++;
      }
    }),
  );

  // Handoffs: one finished task in ten hands off to the tasks that depend on it.
  const dependents = new Map<number, number[]>();
  deps.forEach((list, i) => {
    for (const d of list) dependents.set(d, [...(dependents.get(d) ?? []), i]);
  });
  const checklist = Object.fromEntries(plan.handoff.map((item) => [item, true]));
  const handingOff = Array.from({ length: doneCount }, (_, i) => i).filter(
    (i) => i % 10 === 3 && (dependents.get(i)?.length ?? 0) > 0,
  );
  await Promise.all(
    handingOff.map((i) =>
      limit(() =>
        recordHandoff(at((doneAt[i] as number) + 2 * 60_000), {
          project,
          task: taskIds[i] as string,
          to: (dependents.get(i) ?? []).slice(0, 2).map((d) => taskIds[d] as string),
          checklist,
          notes: `Context for the next agent: see docs/task-${i}.md`,
          // Recorded after the task is done, which only an admin's override allows.
          override: true,
          actor: { kind: 'admin' },
        }),
      ),
    ),
  );

  // What GitHub reports: a merged PR per finished task, a CI run about every two hours, a few alerts.
  const integration: AuditEvent[] = [];
  const event = (time: number, fields: Omit<AuditEvent, 'id' | 'at' | 'actor'>) =>
    integration.push({
      id: timeOrderedIds.next(iso(time)),
      at: iso(time),
      actor: 'integration:github',
      ...fields,
    });
  for (let i = 0; i < doneCount; i++)
    event((doneAt[i] as number) - 60_000, {
      type: 'github.pr_merged',
      subject: `${REPO}#${i}`,
      data: {
        repository: REPO,
        number: i,
        title: `Change ${i}`,
        url: `https://github.com/${REPO}/pull/${i}`,
        tasks: [taskIds[i]],
      },
    });
  for (let time = historyStart + HOUR; time < now; time += 2 * HOUR) {
    const conclusion = next() < 0.12 ? 'failure' : 'success';
    event(time, {
      type: 'build.finished',
      subject: REPO,
      note: `ci on main: ${conclusion}`,
      data: { conclusion },
    });
  }
  for (let d = 3; d < HISTORY_DAYS; d += 9)
    event(now - d * DAY, {
      type: 'security.critical',
      subject: `https://github.com/${REPO}/security/secret-scanning/${d}`,
      note: `${REPO}: secret scanning: Amazon AWS Access Key ID`,
    });
  const batches: AuditEvent[][] = [];
  for (let start = 0; start < integration.length; start += 25)
    batches.push(integration.slice(start, start + 25));
  await Promise.all(batches.map((batch) => limit(() => base.store.appendEvents(project, batch))));

  // Ten metrics, a point an hour for 30 days, 100 points a request (the API's limit).
  const points: { name: string; value: number; at: string }[] = [];
  for (let time = historyStart; time <= now - HOUR / 2; time += HOUR) {
    const t = (time - historyStart) / (HISTORY_DAYS * DAY);
    const wave = Math.sin(time / (6 * HOUR));
    const values: Record<(typeof METRICS)[number], number> = {
      tps: Math.round(1_400_000 + 600_000 * t + 50_000 * wave),
      'latency.p99_ms': Math.round(260 - 40 * t + 15 * wave),
      error_rate: Number((0.02 - 0.015 * t + 0.002 * wave).toFixed(4)),
      'coverage.unit': Number((78 + 5 * t).toFixed(1)),
      'coverage.integration': Number((74 - 6 * t).toFixed(1)),
      'build.failure_rate': Number((0.05 + 0.1 * t).toFixed(3)),
      'tests.integration.failed': Math.max(0, Math.round(3 * wave)),
      'issues.critical': t > 0.9 ? 1 : 0,
      'queue.depth': Math.round(120 + 80 * wave),
      'deploys.count': Math.floor(t * 90),
    };
    for (const name of METRICS) points.push({ name, value: values[name], at: iso(time) });
  }
  const metricBatches: (typeof points)[] = [];
  for (let start = 0; start < points.length; start += 100)
    metricBatches.push(points.slice(start, start + 100));
  await Promise.all(
    metricBatches.map((batch) => limit(() => recordMetrics(at(now), { project, metrics: batch }))),
  );

  // Heartbeats: most agents a few minutes ago; three silent for hours, one of them marked down by
  // the monitor (the status shows the other two as down from their silence).
  const working = new Map<string, number>();
  for (const i of active) working.set(agentOf[i] as string, i);
  const risks: Risk[] = ['green', 'green', 'green', 'green', 'yellow', 'green', 'green', 'red'];
  await Promise.all(
    plan.agents.map((definition, a) =>
      limit(async () => {
        const silent = a % 17 === 5;
        const time = silent ? now - 3 * HOUR - a * 60_000 : now - (a % 9) * 60_000;
        const task = working.get(definition.id);
        await recordHeartbeat(at(time), {
          project,
          agent: definition.id,
          ...(task !== undefined ? { task: taskIds[task] as string, completion: 10 + ((a * 13) % 80) } : {}),
          risk: risks[a % risks.length] as Risk,
          ...(a % 8 === 7 ? { note: 'slower than estimated: flaky integration environment' } : {}),
          actor: { kind: 'agent', id: definition.id },
        });
        if (silent && a % 2 === 0) {
          const down = time + 40 * 60_000;
          await base.store.markAgentDown(project, definition.id, {
            at: iso(down),
            lastHeartbeatAt: iso(time),
          });
          await base.store.appendEvents(project, [
            {
              id: timeOrderedIds.next(iso(down)),
              at: iso(down),
              actor: 'system',
              type: 'agent.down',
              subject: definition.id,
              note: `no heartbeat since ${iso(time).slice(11, 16)} (every 15m expected)`,
            },
          ]);
        }
      }),
    ),
  );
  return {
    done: doneCount,
    inProgress: active.length - inReview,
    inReview,
    blocked,
    handoffs: handingOff.length,
    metricPoints: points.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Producing and rendering.

const SINCE: Record<ReportKind, number> = {
  standup: DAY,
  sync: 7 * HOUR,
  report: DAY,
  'weekly-summary': 7 * DAY,
};

type ChartBlock = Extract<ReportBlock, { kind: 'chart' }>;

const chartOf = (document: ReportDocument) =>
  document.sections
    .flatMap((section) => section.blocks)
    .find((block): block is ChartBlock => block.kind === 'chart');

function produce(ports: CoordinationPorts, project: string, kind: ReportKind): Promise<ReportDocument> {
  return produceReport(ports, { project, kind, since: new Date(ports.clock.now().getTime() - SINCE[kind]) });
}

/** A report as it is shown: Slack blocks, Markdown, and the burndown PNG when it has a chart. */
async function renderAll(document: ReportDocument) {
  const message = renderBlocks(document);
  const markdown = renderMarkdown(document, { chartPath: 'burndown.png' });
  const chart = chartOf(document);
  const png = chart ? await renderBurndownPng(chart.series, { title: chart.title }) : undefined;
  return { message, markdown, png };
}

/** What the scheduled job also renders: each agent's part for its own channel. */
function renderAgentParts(document: ReportDocument): number {
  let parts = 0;
  for (const agent of document.agents) {
    const part = forAgent(document, agent.id);
    if (part) {
      renderBlocks(part);
      parts++;
    }
  }
  return parts;
}

interface Variant {
  readonly name: string;
  readonly run: () => Promise<unknown>;
  readonly limitMs?: number;
}

/**
 * Times the variants round-robin, `runs` rounds after one warm-up round, so a burst of load from
 * elsewhere on the machine lands on all of them alike rather than on whichever ran then.
 */
async function measureRounds(variants: readonly Variant[], runs = RUNS): Promise<Measurement[]> {
  const times = variants.map(() => [] as number[]);
  for (let round = -1; round < runs; round++)
    for (const [v, variant] of variants.entries()) {
      const start = performance.now();
      await variant.run();
      if (round >= 0) times[v]?.push(performance.now() - start);
    }
  return variants.map((variant, v) => {
    const sorted = (times[v] as number[]).sort((x, y) => x - y);
    return {
      name: variant.name,
      runs,
      medianMs: sorted[Math.floor(runs / 2)] as number,
      minMs: sorted[0] as number,
      maxMs: sorted.at(-1) as number,
    };
  });
}

// ---------------------------------------------------------------------------------------------

export async function run(): Promise<boolean> {
  const local = await startDynamoDbLocal();
  try {
    const client = local.client();
    let log: RequestLog | undefined;
    countRequests(client, () => log);
    const tableName = 'convoy-bench-reports';
    await ensureTable(client, tableName);
    const documentClient = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const store = new DynamoDbCoordinationStore(documentClient, tableName);
    const ports: CoordinationPorts = { store, clock: { now: () => new Date() }, ids: timeOrderedIds };
    const now = Date.now();

    const large = benchScenario('reports-1000', 1_000, now);
    const small = benchScenario('reports-100', 100, now);
    const seeded = new Map<string, { summary: SeedSummary; ms: number; requests: number }>();
    for (const scenario of [large, small]) {
      log = newLog();
      const started = performance.now();
      const summary = await seed(ports, scenario, now);
      seeded.set(scenario.project, { summary, ms: performance.now() - started, requests: log.requests });
    }
    log = undefined;

    const big = seeded.get(large.project) as { summary: SeedSummary; ms: number; requests: number };
    const s = big.summary;
    const countEvents = async (since: number) => {
      let count = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const page = await documentClient.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND sk >= :since',
            ExpressionAttributeValues: { ':pk': keys.events(large.project), ':since': iso(since) },
            Select: 'COUNT',
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        count += page.Count ?? 0;
        start = page.LastEvaluatedKey;
      } while (start);
      return count;
    };
    const allEvents = await countEvents(now - 100 * DAY);
    const lastDay = await countEvents(now - DAY);
    const lastWeek = await countEvents(now - 7 * DAY);
    const edges = large.deps.reduce((sum, list) => sum + list.length, 0);
    console.log(
      `\nplan: ${fmt(large.taskIds.length)} tasks in ${PHASES} chained phases (${fmt(edges)} dependsOn edges), ${AGENTS} agents, 3 gates; ` +
        `${HISTORY_DAYS} days of history: ${s.done} done, ${s.inProgress} in progress, ${s.inReview} in review, ${s.blocked} blocked, ` +
        `${fmt(allEvents)} events (${fmt(lastDay)} in the last 24 h, ${fmt(lastWeek)} in 7 days), ${s.handoffs} handoffs, ${METRICS.length} metrics × ${fmt(s.metricPoints / METRICS.length)} points; ` +
        `seeded in ${(big.ms / 1000).toFixed(1)} s (${fmt(big.requests)} DynamoDB requests; the 100-task copy ${((seeded.get(small.project)?.ms ?? 0) / 1000).toFixed(1)} s); ` +
        `DynamoDB Local in memory; ${availableParallelism()} CPUs, load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
    );

    // The requests of one report of each kind, for both plans (the plan body is cached by then, as in
    // a warm container; the line after the timings shows what a cold one adds).
    const requests = new Map<string, RequestLog>();
    const firstMs = new Map<ReportKind, number>();
    const sizes = new Map<ReportKind, string>();
    for (const scenario of [large, small])
      for (const kind of KINDS) {
        log = newLog();
        const started = performance.now();
        const document = await produce(ports, scenario.project, kind);
        if (scenario === large) firstMs.set(kind, performance.now() - started);
        requests.set(`${scenario.project}/${kind}`, log);
        log = undefined;
        if (scenario === large) {
          const { message, markdown, png } = await renderAll(document);
          const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
          sizes.set(
            kind,
            `${document.sections.length} sections (${document.sections
              .map((section) => section.id.split(':')[0])
              .filter((id, n, ids) => ids.indexOf(id) === n)
              .join(', ')}), ` +
              `Slack ${message.blocks.length} blocks ${kb(JSON.stringify(message).length)}, Markdown ${kb(markdown.length)}${png ? `, PNG ${kb(png.length)}` : ''}`,
          );
        }
      }

    const project = large.project;
    const readPlanBody = async () => {
      const response = await documentClient.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `${keys.projectPartition(project)}#PLANS` },
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      return JSON.parse(gunzipSync(response.Items?.[0]?.plan as Uint8Array).toString('utf8'));
    };
    const historyStart = () => iso(Date.now() - HISTORY_DAYS * DAY);
    // One context and document, to time building and rendering apart from the reads.
    const context = await loadReportContext(ports, {
      project,
      kind: 'report',
      since: new Date(Date.now() - DAY),
      now: new Date(),
    });
    const built = buildReport('report', context);
    const chart = chartOf(built);
    const variants: Variant[] = [
      {
        name: 'report: reads only (loadReportContext)',
        run: () =>
          loadReportContext(ports, {
            project,
            kind: 'report',
            since: new Date(Date.now() - DAY),
            now: new Date(),
          }),
      },
      { name: '  of which project state (1 Query)', run: () => store.snapshot(project) },
      {
        name: '  of which 10 metric series (10 Query)',
        run: () => Promise.all(METRICS.map((name) => store.metricHistory(project, name, historyStart()))),
      },
      { name: 'report: build only (buildReport)', run: async () => buildReport('report', context) },
      {
        name: 'report: Slack blocks + Markdown only',
        run: async () => [renderBlocks(built), renderMarkdown(built, { chartPath: 'burndown.png' })],
      },
      {
        name: 'report: burndown PNG only',
        run: async () => (chart ? renderBurndownPng(chart.series, { title: chart.title }) : undefined),
      },
      {
        name: 'report: produceReport (reads + build)',
        run: () => produce(ports, project, 'report'),
        limitMs: LIMIT_MS,
      },
      {
        name: 'report: + Slack blocks, Markdown, PNG',
        run: async () => renderAll(await produce(ports, project, 'report')),
        limitMs: LIMIT_MS,
      },
      {
        name: 'report: + 50 agents’ parts (as the job)',
        run: async () => {
          const document = await produce(ports, project, 'report');
          await renderAll(document);
          renderAgentParts(document);
        },
      },
      ...(['standup', 'sync', 'weekly-summary'] as const).map((kind) => ({
        name: `${kind}: produce + render`,
        run: async () => renderAll(await produce(ports, project, kind)),
      })),
      // A cold container reads the plan body once and keeps it: one more request, a gunzip and a parse.
      { name: 'cold container only: plan body read', run: readPlanBody },
    ];
    const measured = await measureRounds(variants);
    const timesOk = report(
      `Status reports from DynamoDB Local (${fmt(large.taskIds.length)} tasks, ${AGENTS} agents, ${HISTORY_DAYS} days; ${RUNS} rounds after a warm-up)`,
      measured.map((measurement, v) => {
        const limitMs = variants[v]?.limitMs;
        return limitMs === undefined ? measurement : { measurement, limitMs };
      }),
    );
    const byName = (name: string) => measured.find((m) => m.name === name) as Measurement;
    const status = byName('report: + Slack blocks, Markdown, PNG');
    const others = measured.filter((m) => / produce \+ render$/.test(m.name));
    console.log(
      `  ${'first report of the process (cold JIT)'.padEnd(44)} ${[...firstMs].map(([kind, ms]) => `${kind} ${ms.toFixed(0)} ms`).join(', ')} (reads + build)`,
    );
    for (const kind of KINDS) {
      const size = sizes.get(kind);
      if (size) console.log(`  ${`${kind}: rendered`.padEnd(44)} ${size}`);
    }

    console.log('\nDynamoDB requests per report (warm container: the plan body is cached)');
    let bounded = true;
    for (const kind of KINDS) {
      const big1000 = requests.get(`${large.project}/${kind}`) ?? newLog();
      const small100 = requests.get(`${small.project}/${kind}`) ?? newLog();
      const queries = (l: RequestLog) => l.requests - l.pages;
      const same = queries(big1000) === queries(small100);
      if (!same) bounded = false;
      console.log(`  ${`${kind}, 1,000 tasks`.padEnd(44)} ${describeLog(big1000)}`);
      console.log(
        `  ${`${kind}, 100 tasks`.padEnd(44)} ${describeLog(small100)}  ${same ? '✓' : '✗'} same number of queries` +
          `${big1000.pages + small100.pages > 0 ? ` (further pages: ${big1000.pages} vs ${small100.pages})` : ''}`,
      );
    }
    // Pages are what could still grow: a Query answers at most 1 MB. Item sizes here are JSON
    // lengths, close to DynamoDB's own count (attribute names + values).
    const partition = async (pk: string) => {
      let items = 0;
      let bytes = 0;
      let taskBytes = 0;
      let taskItems = 0;
      let start: Record<string, unknown> | undefined;
      do {
        const page = await documentClient.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          const size = JSON.stringify(item).length;
          items++;
          bytes += size;
          if (String(item.sk).startsWith('TASK#')) {
            taskBytes += size;
            taskItems++;
          }
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return { items, bytes, taskBytes, taskItems };
    };
    const state = await partition(keys.projectPartition(project));
    const series = await partition(keys.metricSeries(project, 'tps'));
    // A task has an item once it has moved (todo tasks have none); this counts every task as moved.
    const perTask = state.taskBytes / Math.max(1, state.taskItems);
    console.log(
      `  ${'what one page holds (1 MB a Query)'.padEnd(44)} project state ≈ ${fmt(Math.round(state.bytes / 1024))} KB ` +
        `(${fmt(state.items)} items: ${fmt(state.taskItems)} moved tasks of ≈ ${Math.round(perTask)} B; a second page once ≈ ${fmt(Math.floor((1024 * 1024 - (state.bytes - state.taskBytes)) / perTask))} tasks have moved); ` +
        `a metric series of ${HISTORY_DAYS} days ≈ ${fmt(Math.round(series.bytes / 1024))} KB; events: pages of 1,000 (report-context.ts)`,
    );

    const pass = timesOk && bounded;
    console.log(
      `\n${pass ? 'PASS' : 'FAIL'}: a status report of ${fmt(large.taskIds.length)} tasks, ${AGENTS} agents and ${HISTORY_DAYS} days of history ` +
        `renders in ${status.medianMs.toFixed(0)} ms median, ${status.maxMs.toFixed(0)} ms max (target < ${LIMIT_MS} ms, on the median), ` +
        `with ${requests.get(`${large.project}/report`)?.requests ?? '?'} DynamoDB requests ` +
        `(${bounded ? 'the same queries as for 100 tasks' : 'NOT the same queries as for 100 tasks'})` +
        `${others.some((m) => m.medianMs > LIMIT_MS) ? '; note: another kind of report is slower than the target' : ''}`,
    );
    return pass;
  } finally {
    await local.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = (await run()) ? 0 : 1;
