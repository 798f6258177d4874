import { readFileSync } from 'node:fs';
import type {
  AgentState,
  AuditEvent,
  Handoff,
  MetricPoint,
  PhaseState,
  ProjectSnapshot,
  ResourceLease,
  StoredPlan,
  TaskState,
} from '../../../../functions/core/coordination/model.js';
import { computeStatus } from '../../../../functions/core/coordination/status.js';
import type { Plan } from '../../../../functions/core/plan/index.js';
import type { ReportContext } from '../../../../functions/core/reports/model.js';
import { validPlan } from '../../../fixtures/plans.js';

/**
 * The sprint-20-23 example two weeks in, as of Wed 2026-01-14 16:00 in New York (21:00Z): Sprint 20
 * is active; the proto design, the gRPC test environment, the RWAT tokenization design and the
 * prediction cache are done; gRPC services are in review; the gRPC deployment is blocked on a cloud
 * quota; the bridge agent stopped sending heartbeats at 11:00; integration coverage keeps falling
 * and has an open escalation. Times are UTC; New York is UTC-5 in January.
 */

const PLAN_TEXT = readFileSync('examples/sprint-20-23.yaml', 'utf8');

/** The example plan; with `slack`, the owners of the feature agents and the QA lead get Slack ids. */
export function samplePlan(options: { slack?: boolean } = {}): Plan {
  const text = options.slack
    ? PLAN_TEXT.replace(
        '    name: Backend Engineer 1\n',
        '    name: Backend Engineer 1\n    slack: U0BACKEND1\n',
      )
        .replace('    name: QA Lead\n', '    name: QA Lead\n    slack: U0QALEAD1\n')
        .replace('    name: DevOps Lead', '    slack: U0DEVOPS1\n    name: DevOps Lead')
    : PLAN_TEXT;
  return validPlan(text, 'examples/sprint-20-23.yaml');
}

export const REPO = 'example-org/dlt-platform';

const task = (id: string, status: TaskState['status'], extra: Partial<TaskState> = {}): TaskState => ({
  id,
  status,
  blocked: false,
  updatedAt: extra.doneAt ?? extra.startedAt ?? '2026-01-01T13:00:00.000Z',
  updatedBy: 'system',
  version: 2,
  ...extra,
});

export const TASKS: readonly TaskState[] = [
  task('grpc-proto-design', 'done', {
    startedAt: '2026-01-01T13:05:00.000Z',
    doneAt: '2026-01-07T21:00:00.000Z',
  }),
  task('deploy-grpc-test-env', 'done', {
    startedAt: '2026-01-01T14:00:00.000Z',
    doneAt: '2026-01-08T20:00:00.000Z',
  }),
  task('rwat-tokenization-design', 'done', {
    startedAt: '2026-01-01T14:30:00.000Z',
    doneAt: '2026-01-12T22:00:00.000Z',
  }),
  task('ai-prediction-caching', 'done', {
    startedAt: '2026-01-01T15:00:00.000Z',
    doneAt: '2026-01-14T19:30:00.000Z',
  }),
  task('grpc-services', 'in_review', {
    startedAt: '2026-01-08T14:00:00.000Z',
    updatedAt: '2026-01-14T20:10:00.000Z',
  }),
  task('deploy-grpc-services', 'in_progress', {
    startedAt: '2026-01-09T14:00:00.000Z',
    updatedAt: '2026-01-14T15:15:00.000Z',
    blocked: true,
    blockedReason: 'Integration cluster quota exhausted; AWS support case #4711 is open',
  }),
  task('bridge-oracle-design', 'in_progress', { startedAt: '2026-01-02T14:00:00.000Z' }),
];

const ev = (at: string, type: string, fields: Partial<AuditEvent> = {}): AuditEvent => ({
  id: `${at}-${type}`,
  type,
  at,
  actor: 'system',
  ...fields,
});

/** Everything that happened from Tue Jan 13 noon to Wed Jan 14 16:00, oldest first. */
export const EVENTS: readonly AuditEvent[] = [
  ev('2026-01-13T18:00:00.000Z', 'build.finished', {
    actor: 'integration:github',
    subject: REPO,
    note: 'ci on main: success',
    data: { conclusion: 'success' },
  }),
  ev('2026-01-13T23:00:00.000Z', 'build.finished', {
    actor: 'integration:github',
    subject: REPO,
    note: 'ci on main: failure',
    data: { conclusion: 'failure' },
  }),
  ev('2026-01-14T15:15:00.000Z', 'task.blocked', {
    actor: 'agent:deployment-agent',
    subject: 'deploy-grpc-services',
    note: 'Integration cluster quota exhausted; AWS support case #4711 is open',
    data: { agent: 'deployment-agent' },
  }),
  ev('2026-01-14T16:35:00.000Z', 'agent.down', {
    subject: 'bridge-agent',
    note: 'no heartbeat since 11:00 (every 15m expected)',
  }),
  ev('2026-01-14T17:00:00.000Z', 'build.finished', {
    actor: 'integration:github',
    subject: REPO,
    note: 'ci on grpc-services: failure',
    data: { conclusion: 'failure' },
  }),
  ev('2026-01-14T19:29:00.000Z', 'github.pr_merged', {
    actor: 'integration:github',
    subject: `${REPO}#38`,
    data: {
      repository: REPO,
      number: 38,
      title: 'Prediction cache for the AI optimizer',
      url: `https://github.com/${REPO}/pull/38`,
      tasks: ['ai-prediction-caching'],
    },
  }),
  ev('2026-01-14T19:30:00.000Z', 'task.transitioned', {
    actor: 'integration:github',
    subject: 'ai-prediction-caching',
    note: 'PR #38 merged',
    data: { from: 'in_progress', to: 'done', agent: 'ai-agent' },
  }),
  ev('2026-01-14T19:35:00.000Z', 'task.handed_off', {
    actor: 'agent:ai-agent',
    subject: 'ai-prediction-caching',
    note: 'Cache keys are versioned; see docs/cache.md',
    data: { to: ['ai-grpc-integration'], handoff: 'h2' },
  }),
  ev('2026-01-14T20:10:00.000Z', 'task.transitioned', {
    actor: 'integration:github',
    subject: 'grpc-services',
    note: 'PR #41 opened',
    data: { from: 'in_progress', to: 'in_review', agent: 'grpc-agent' },
  }),
  ev('2026-01-14T20:20:00.000Z', 'github.pr_merged', {
    actor: 'integration:github',
    subject: `${REPO}#40`,
    data: {
      repository: REPO,
      number: 40,
      title: 'Bump the protobuf toolchain to 27.1',
      url: `https://github.com/${REPO}/pull/40`,
      tasks: [],
    },
  }),
  ev('2026-01-14T20:45:00.000Z', 'security.critical', {
    actor: 'integration:github',
    subject: `https://github.com/${REPO}/security/secret-scanning/3`,
    note: `${REPO}: secret scanning: Amazon AWS Access Key ID`,
  }),
  ev('2026-01-14T20:50:00.000Z', 'github.review', {
    actor: 'integration:github',
    subject: 'grpc-services',
    note: 'PR #41 review approved by alice',
  }),
];

export const HANDOFFS: readonly Handoff[] = [
  {
    id: 'h1',
    task: 'grpc-proto-design',
    to: ['deploy-grpc-services'],
    checklist: {},
    at: '2026-01-07T21:05:00.000Z',
    by: 'agent:grpc-agent',
  },
  {
    id: 'h3',
    task: 'rwat-tokenization-design',
    to: ['rwat-basic-registry'],
    checklist: {},
    at: '2026-01-12T22:05:00.000Z',
    by: 'agent:rwat-agent',
  },
  {
    id: 'h2',
    task: 'ai-prediction-caching',
    to: ['ai-grpc-integration'],
    checklist: {},
    notes: 'Cache keys are versioned; see docs/cache.md',
    at: '2026-01-14T19:35:00.000Z',
    by: 'agent:ai-agent',
  },
];

const DAYS = ['05', '06', '07', '08', '09', '12', '13', '14'];
const series = (name: string, values: readonly number[]): MetricPoint[] =>
  values.map((value, i) => ({ name, value, at: `2026-01-${DAYS[i]}T21:00:00.000Z` }));

export const METRICS: ReadonlyMap<string, readonly MetricPoint[]> = new Map([
  [
    'tps',
    series('tps', [1_200_000, 1_250_000, 1_380_000, 1_420_000, 1_500_000, 1_610_000, 1_700_000, 1_850_000]),
  ],
  ['coverage.integration', series('coverage.integration', [74, 73, 73, 72, 71, 70, 69, 68])],
  ['coverage.unit', series('coverage.unit', [82, 82, 82, 82, 82, 82, 82, 82])],
  ['build.failure_rate', series('build.failure_rate', [0.05, 0.05, 0.1, 0.1, 0.12, 0.15, 0.2, 0.25])],
]);

export const ESCALATIONS: readonly unknown[] = [
  // Shaped like the escalation engine's records (functions/core/escalations/model.ts).
  {
    id: 'coverage-below-70:20260113T2100:1f2e',
    project: 'sprint-20-23',
    rule: 'coverage-below-70',
    kind: 'condition',
    subject: 'coverage.integration',
    status: 'open',
    level: 1,
    targets: ['qa-lead', 'tech-lead'],
    openedAt: '2026-01-13T21:00:00.000Z',
    reason: 'coverage.integration is 69',
  },
];

export interface ContextInput {
  readonly now: string;
  readonly since: string;
  readonly plan?: Plan;
  /** Task states that replace or add to TASKS. */
  readonly tasks?: readonly TaskState[];
  readonly events?: readonly AuditEvent[];
  readonly escalations?: readonly unknown[];
  /** Resource leases, expired ones included, as the store keeps them. */
  readonly leases?: readonly ResourceLease[];
}

/** The fixture state seen at `now`, with the events of `[since, now]`. */
export function reportContext(input: ContextInput): ReportContext {
  const now = new Date(input.now);
  const since = new Date(input.since);
  const plan = input.plan ?? samplePlan();
  const stored: StoredPlan = {
    project: plan.project.id,
    version: 3,
    plan,
    appliedAt: '2025-12-31T15:00:00.000Z',
    appliedBy: 'admin',
  };
  const tasks = new Map(TASKS.map((state) => [state.id, state]));
  for (const state of input.tasks ?? []) tasks.set(state.id, state);
  const phases = new Map<string, PhaseState>([
    ['sprint-20', { id: 'sprint-20', status: 'active', updatedAt: '2026-01-01T13:00:00.000Z', version: 1 }],
  ]);
  const alive = (id: string, extra: Partial<AgentState> = {}): [string, AgentState] => [
    id,
    {
      id,
      lastHeartbeatAt: new Date(now.getTime() - 4 * 60_000).toISOString(),
      heartbeats: 500,
      version: 500,
      risk: 'green',
      ...extra,
    },
  ];
  const agents = new Map<string, AgentState>([
    alive('jira-agent'),
    alive('deployment-agent', {
      currentTask: 'deploy-grpc-services',
      completion: 40,
      risk: 'yellow',
      note: 'waiting on the AWS quota increase',
    }),
    alive('qa-agent'),
    alive('grpc-agent', { currentTask: 'grpc-services', completion: 90 }),
    alive('ai-agent'),
    [
      'bridge-agent',
      {
        id: 'bridge-agent',
        lastHeartbeatAt: '2026-01-14T16:00:00.000Z',
        currentTask: 'bridge-oracle-design',
        completion: 70,
        heartbeats: 300,
        version: 300,
      },
    ],
    alive('rwat-agent'),
  ]);
  const metrics = new Map<string, MetricPoint>();
  for (const [name, points] of METRICS) {
    const latest = points.filter((point) => Date.parse(point.at) <= now.getTime()).at(-1);
    if (latest) metrics.set(name, latest);
  }
  const snapshot: ProjectSnapshot = {
    plan: stored,
    phases,
    tasks,
    agents,
    metrics,
    ...(input.leases ? { leases: input.leases } : {}),
  };
  const within = (at: string) => Date.parse(at) >= since.getTime() && Date.parse(at) <= now.getTime();
  return {
    stored,
    snapshot,
    status: computeStatus(snapshot, now, [...(input.escalations ?? ESCALATIONS)]),
    now,
    since,
    events: (input.events ?? EVENTS).filter((event) => within(event.at)),
    handoffs: HANDOFFS,
    metricHistory: new Map(
      [...METRICS].map(([name, points]) => [
        name,
        points.filter((point) => Date.parse(point.at) <= now.getTime()),
      ]),
    ),
  };
}

/** Thu Jan 15 09:00, the standup after Wed Jan 14 09:00's. */
export const standupContext = (input: Partial<ContextInput> = {}) =>
  reportContext({ now: '2026-01-15T14:00:00.000Z', since: '2026-01-14T14:00:00.000Z', ...input });

/** Wed Jan 14 16:00, the sync of a working day that started at 09:00. */
export const syncContext = (input: Partial<ContextInput> = {}) =>
  reportContext({ now: '2026-01-14T21:00:00.000Z', since: '2026-01-14T14:00:00.000Z', ...input });

/** Wed Jan 14 17:00, a day after Tuesday's report. */
export const dailyContext = (input: Partial<ContextInput> = {}) =>
  reportContext({ now: '2026-01-14T22:00:00.000Z', since: '2026-01-13T22:00:00.000Z', ...input });

/** Fri Jan 16 16:30, a week after the previous summary; gRPC services were merged on Thursday. */
export const weeklyContext = (input: Partial<ContextInput> = {}) =>
  reportContext({
    now: '2026-01-16T21:30:00.000Z',
    since: '2026-01-09T21:30:00.000Z',
    ...input,
    tasks: [
      task('grpc-services', 'done', {
        startedAt: '2026-01-08T14:00:00.000Z',
        doneAt: '2026-01-15T18:00:00.000Z',
      }),
      ...(input.tasks ?? []),
    ],
  });

/**
 * A big project: `agents` agents (each with an owner who has a Slack id), `tasks` tasks in five
 * sequential phases (each agent's tasks of a phase in a chain), `days` working days in: the first
 * two phases passed, the third active with work done, in progress and blocked; a transition, a merged
 * PR and a CI run per finished task, and ten metrics with a point a day.
 */
export function largeContext(
  options: { tasks?: number; agents?: number; days?: number; sinceDays?: number } = {},
): ReportContext {
  const taskCount = options.tasks ?? 1_000;
  const agentCount = options.agents ?? 50;
  const dayCount = options.days ?? 30;
  const phaseCount = 5;
  const pad = (n: number) => String(n).padStart(4, '0');
  const lines = [
    'version: 1',
    'project:',
    '  id: big',
    '  name: Big Project',
    '  timezone: Europe/Berlin',
    '  start: 2026-03-02',
    'people:',
  ];
  for (let a = 0; a < agentCount; a++) lines.push(`  - id: owner-${pad(a)}`, `    slack: U${pad(a)}OWNER`);
  lines.push('agents:');
  for (let a = 0; a < agentCount; a++)
    lines.push(
      `  - id: agent-${pad(a)}`,
      `    name: "Agent ${a}: <feature> & more"`,
      `    owner: owner-${pad(a)}`,
      `    channel: "#agent-${pad(a)}"`,
    );
  lines.push('phases:');
  const perPhase = Math.ceil(taskCount / phaseCount);
  const previous = new Map<string, string>();
  for (let p = 0; p < phaseCount; p++) {
    lines.push(`  - id: phase-${p}`, `    name: Phase ${p}`, `    due: 2026-0${4 + Math.floor(p / 2)}-1${p}`);
    if (p > 0) lines.push(`    dependsOn: [phase-${p - 1}]`);
    lines.push('    tasks:');
    previous.clear();
    for (let i = p * perPhase; i < Math.min(taskCount, (p + 1) * perPhase); i++) {
      const agent = `agent-${pad(i % agentCount)}`;
      lines.push(
        `      - id: task-${pad(i)}`,
        `        title: "Task ${i} | with *markup* <b>"`,
        `        agent: ${agent}`,
        `        estimate: ${['4h', '1d', '2d'][i % 3]}`,
      );
      const before = previous.get(agent);
      if (before) lines.push(`        dependsOn: [${before}]`);
      previous.set(agent, `task-${pad(i)}`);
    }
  }
  const plan = validPlan(`${lines.join('\n')}\n`, 'big.yaml');
  const start = Date.parse('2026-03-02T08:00:00.000Z');
  const dayMs = (d: number) => start + Math.floor((d * 7) / 5) * 86_400_000;
  const now = new Date(dayMs(dayCount) + 9 * 3_600_000);
  const since = new Date(now.getTime() - (options.sinceDays ?? 1) * 86_400_000);
  const tasks = new Map<string, TaskState>();
  const events: AuditEvent[] = [];
  const all = plan.phases.flatMap((phase) => phase.tasks);
  all.forEach((definition, i) => {
    const share = i / all.length;
    if (share < 0.5) {
      const day = Math.min(dayCount, Math.floor(share * 2 * (dayCount + 1)));
      const doneAt = new Date(dayMs(day) + (i % 8) * 3_600_000).toISOString();
      tasks.set(definition.id, task(definition.id, 'done', { startedAt: doneAt, doneAt }));
      events.push(
        ev(doneAt, 'task.transitioned', {
          subject: definition.id,
          data: { from: 'in_review', to: 'done', agent: definition.agent },
        }),
        ev(doneAt, 'github.pr_merged', {
          subject: `${REPO}#${i}`,
          data: {
            repository: REPO,
            number: i,
            title: `Change ${i}`,
            url: `https://github.com/${REPO}/pull/${i}`,
            tasks: [definition.id],
          },
        }),
        ev(doneAt, 'build.finished', {
          subject: REPO,
          data: { conclusion: i % 5 === 0 ? 'failure' : 'success' },
        }),
      );
    } else if (share < 0.6)
      tasks.set(
        definition.id,
        task(definition.id, i % 2 === 0 ? 'in_progress' : 'in_review', {
          startedAt: since.toISOString(),
          ...(i % 4 === 0
            ? { blocked: true, blockedReason: `Waiting on <vendor> & team ${i} — see *ticket*` }
            : {}),
        }),
      );
  });
  events.sort((a, b) => a.at.localeCompare(b.at));
  const phases = new Map<string, PhaseState>(
    plan.phases.map((phase, p) => [
      phase.id,
      {
        id: phase.id,
        status: p < 2 ? 'passed' : p === 2 ? 'active' : 'pending',
        updatedAt: since.toISOString(),
        version: 1,
      },
    ]),
  );
  const agents = new Map<string, AgentState>(
    plan.agents.map((agent, a) => [
      agent.id,
      {
        id: agent.id,
        lastHeartbeatAt: new Date(now.getTime() - (a % 7) * 60_000).toISOString(),
        heartbeats: 10,
        version: 10,
        risk: a % 10 === 0 ? 'red' : 'green',
      },
    ]),
  );
  const history = new Map<string, MetricPoint[]>();
  for (let m = 0; m < 10; m++) {
    const name = `metric.m${m}`;
    history.set(
      name,
      Array.from({ length: dayCount }, (_, d) => ({
        name,
        value: 100 + ((d * (m + 1)) % 17),
        at: new Date(dayMs(d)).toISOString(),
      })),
    );
  }
  const stored: StoredPlan = {
    project: 'big',
    version: 1,
    plan,
    appliedAt: new Date(start).toISOString(),
    appliedBy: 'admin',
  };
  const metrics = new Map(
    [...history].map(([name, points]) => [name, points[points.length - 1] as MetricPoint]),
  );
  const snapshot: ProjectSnapshot = { plan: stored, phases, tasks, agents, metrics };
  return {
    stored,
    snapshot,
    status: computeStatus(snapshot, now, []),
    now,
    since,
    events: events.filter(
      (event) => Date.parse(event.at) >= since.getTime() && Date.parse(event.at) <= now.getTime(),
    ),
    handoffs: [],
    metricHistory: history,
  };
}
