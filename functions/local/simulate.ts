import { readFile } from 'node:fs/promises';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbCoordinationStore } from '../adapters/dynamodb/coordination-store.js';
import { DynamoDbEscalationStore } from '../adapters/dynamodb/escalation-store.js';
import { DynamoDbGateStore } from '../adapters/dynamodb/gate-store.js';
import { DynamoDbOutbox } from '../adapters/dynamodb/outbox.js';
import { DEFAULT_TABLE_NAME, ensureTable } from '../adapters/dynamodb/table-definition.js';
import { renderBlocksAsText, slackTextToPlain } from '../adapters/slack/blocks.js';
import { noticeMessage } from '../adapters/slack/notice-messages.js';
import {
  applyPlan,
  type CoordinationPorts,
  recordHeartbeat,
  recordMetrics,
  setBlocker,
  transitionTask,
} from '../core/coordination/commands.js';
import type { Actor, ProjectSnapshot } from '../core/coordination/model.js';
import { ConflictError } from '../core/errors.js';
import { acknowledgeEscalation } from '../core/escalations/service.js';
import { decideGate } from '../core/gates/service.js';
import { lineOf } from '../core/integrations/model.js';
import { drainOutbox } from '../core/integrations/outbox-worker.js';
import {
  formatPlanError,
  type Plan,
  parseCondition,
  parsePlan,
  WorkingCalendar,
  workingMinutes,
} from '../core/plan/index.js';
import { mulberry32 } from '../core/reports/forecast.js';
import { type JobPorts, runScheduledJob } from '../core/rhythm/jobs.js';
import { runHeartbeatMonitor, runStaleWorkSweep } from '../core/rhythm/monitors.js';
import { instantsAt, nextFireTimes } from '../core/schedules/index.js';
import type { Dependencies } from '../handlers/dependencies.js';
import { reportRenderer } from '../handlers/report-renderer.js';
import { startDynamoDbLocal } from './dynamodb-local.js';
import { type LocalWorkflows, startLocalWorkflows } from './local-workflows.js';

export interface SimulateOptions {
  readonly planFile: string;
  /** Working days to replay, from the project's first working day. */
  readonly days: number;
  /** The same seed gives the same run, line for line. @default 1 */
  readonly seed?: number;
  /** Receives the output, a line at a time. */
  readonly print: (line: string) => void;
}

export interface SimulationSummary {
  readonly days: number;
  readonly posts: number;
  readonly tasksDone: number;
  readonly tasks: number;
  readonly phasesPassed: number;
}

/** A problem with the simulation's input (the plan, the options); the message says what to fix. */
export class SimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulationError';
  }
}

/** Agent activity happens at these local times of every working day. */
const TICKS = ['09:30', '11:00', '13:30', '15:00'] as const;
/** Working time between two ticks, in minutes, and so the work an agent at pace 1 does per tick. */
const WORK_PER_TICK = (8 * 60) / TICKS.length;
const BLOCK_CHANCE = 0.03;
const CRASH_CHANCE = 0.03;
const BLOCK_REASONS = [
  'waiting for API credentials',
  'flaky integration test',
  'unclear acceptance criteria',
  'review requested from the owner',
] as const;

interface AgentSim {
  readonly id: string;
  readonly pace: number;
  task?: string;
  /** Working minutes spent on the current task. */
  progress: number;
  blockedTicks: number;
  /** Ticks it stays silent (crashed): no heartbeats, no work. */
  silentTicks: number;
}

type Step = { at: Date; order: number; run: () => Promise<void> };

/**
 * Replays `days` working days of a plan against a fresh in-memory DynamoDB Local on a virtual clock:
 * agents take ready tasks, work at a seeded pace, sometimes block or go silent, metrics drift toward
 * their targets; every schedule fires and every monitor runs as it would deployed, and what Convoy
 * posts is printed day by day. Everything random comes from the seed, and ids from a counter, so
 * the same seed prints the same lines.
 */
export async function simulate(options: SimulateOptions): Promise<SimulationSummary> {
  if (!Number.isInteger(options.days) || options.days < 1 || options.days > 1000)
    throw new SimulationError(`--days must be a whole number from 1 to 1000, got ${options.days}`);
  const plan = await readPlan(options.planFile);
  const random = mulberry32(options.seed ?? 1);
  const dynamodb = await startDynamoDbLocal({});
  let workflows: LocalWorkflows | undefined;
  try {
    const client = dynamodb.client();
    await ensureTable(client, DEFAULT_TABLE_NAME);
    const documentClient = DynamoDBDocumentClient.from(client, {
      marshallOptions: { removeUndefinedValues: true },
    });
    const store = new DynamoDbCoordinationStore(documentClient, DEFAULT_TABLE_NAME);
    const outbox = new DynamoDbOutbox(documentClient, DEFAULT_TABLE_NAME);
    let now = new Date(0);
    let sequence = 0;
    const base: Dependencies = {
      store,
      outbox,
      tokens: store,
      idempotency: store,
      charts: store,
      escalations: new DynamoDbEscalationStore(documentClient, DEFAULT_TABLE_NAME),
      gates: new DynamoDbGateStore(documentClient, DEFAULT_TABLE_NAME),
      clock: { now: () => now },
      ids: { next: (at) => `${at}#${String(++sequence).padStart(8, '0')}` },
      secrets: async () => ({}),
    };
    // The gate workflow runs the real ASL; its waits take no time, since the virtual clock only moves
    // between steps: a CAUTION is evaluated again on the state of the same moment.
    workflows = await startLocalWorkflows(base, {
      log: (line) => void line,
      waitTimeOverrides: { '*': 0 },
      retryIntervalOverrides: { '*': 0 },
    });
    const ports: JobPorts & Dependencies = { ...workflows.deps, reports: reportRenderer };
    const running = workflows;
    /** Waits until every gate workflow has finished or waits for a person. */
    const settleWorkflows = async () => {
      for (let round = 0; round < 2_000; round++) {
        await running.drain();
        const busy = running.gates.executions().filter((execution) => execution.status === 'RUNNING');
        const waiting = await Promise.all(
          busy.map(async (execution) => {
            const input = execution.input as { gate?: string };
            const state = input.gate ? await base.gates.getGate(project, input.gate) : undefined;
            // Waiting for a person: the token is stored and nobody has answered yet.
            return state?.status === 'awaiting-decision' && state.pendingToken !== undefined;
          }),
        );
        if (waiting.every(Boolean)) return;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    };
    const project = plan.project.id;
    const calendar = new WorkingCalendar(plan.project);
    const zone = plan.project.timezone;
    const local = (date: string, time: string) =>
      instantsAt(date, time, zone)[0] ?? new Date(`${date}T${time}:00Z`);
    now = local(calendar.start, '08:00');
    await applyPlan(ports, { project, plan, actor: { kind: 'admin' } });

    let posts = 0;
    const clockOf = (at: Date) =>
      new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit' }).format(at);
    const drain = () =>
      drainOutbox(
        {
          outbox,
          limiter: { tryAcquire: async () => 0 },
          clock: ports.clock,
          sleep: async () => undefined,
          recordFailure: async (entry, error) => options.print(`  ! ${entry.id} failed: ${error}`),
          async run(command) {
            if (command.kind !== 'slack') {
              options.print(
                `${clockOf(now)}  jira ${lineOf(command)}: ${command.kind}${'status' in command ? ` → ${command.status}` : ''}${command.kind === 'create-issue' ? ` "${command.summary}"` : ''}`,
              );
              return;
            }
            posts++;
            const message =
              'notice' in command
                ? noticeMessage(command.notice, { timeZone: zone, now })
                : command.message;
            options.print(`${clockOf(now)}  ${command.channel}  ${oneLine(slackTextToPlain(message.text))}`);
            if ('chart' in command && command.chart)
              options.print(`       (chart ${command.chart.filename})`);
            for (const line of renderBlocksAsText(message.blocks)) options.print(`       ${line}`);
          },
        },
        { maxRunMs: 60_000 },
      );

    const agents: AgentSim[] = plan.agents.map((agent) => ({
      id: agent.id,
      pace: 0.7 + 0.6 * random(),
      progress: 0,
      blockedTicks: 0,
      silentTicks: 0,
    }));
    const metrics = driftingMetrics(plan, random);

    for (let day = 0; day < options.days; day++) {
      const date = calendar.dateAt(day);
      const dayStart = local(date, '00:00');
      const dayEnd = local(date, '23:59');
      options.print('');
      options.print(`── Day ${day + 1} · ${weekdayName(date)} ${date} ${'─'.repeat(40)}`);
      const steps: Step[] = [];
      for (const schedule of plan.schedules) {
        for (const at of nextFireTimes(plan, schedule, new Date(dayStart.getTime() - 1), 8)) {
          if (at > dayEnd) break;
          steps.push({
            at,
            order: 2,
            run: async () => {
              // Agents that are up keep beating between their working rounds, as a running agent does.
              await keepAlive(ports, plan, agents);
              await runScheduledJob(ports, {
                project,
                schedule: schedule.id,
                scheduledTime: at.toISOString(),
              });
            },
          });
        }
      }
      steps.push({
        at: local(date, '08:00'),
        order: 0,
        run: async () => void (await runStaleWorkSweep(ports, project)),
      });
      for (const time of TICKS) {
        steps.push({
          at: local(date, time),
          order: 1,
          run: async () => {
            await peopleTick(
              ports,
              plan,
              random,
              (line) => options.print(`${clockOf(now)}  ${line}`),
              settleWorkflows,
            );
            await agentTick(ports, plan, agents, random);
            // A phase the agents just finished starts its gate: the gate goes first, as it would
            // within the minute before the next monitor run.
            await settleWorkflows();
            await runHeartbeatMonitor(ports, project);
          },
        });
      }
      steps.push({
        at: local(date, '12:00'),
        order: 1,
        run: async () => {
          const values = metrics.map((metric) => ({ name: metric.name, value: metric.next(day) }));
          if (values.length > 0) await recordMetrics(ports, { project, metrics: values });
        },
      });
      steps.sort((a, b) => a.at.getTime() - b.at.getTime() || a.order - b.order);
      for (const step of steps) {
        now = step.at;
        await step.run();
        await settleWorkflows();
        await drain();
      }
    }

    const snapshot = (await store.snapshot(project)) as ProjectSnapshot;
    const tasks = plan.phases.flatMap((phase) => phase.tasks);
    const summary = {
      days: options.days,
      posts,
      tasks: tasks.length,
      tasksDone: tasks.filter((task) => snapshot.tasks.get(task.id)?.status === 'done').length,
      phasesPassed: plan.phases.filter((phase) => snapshot.phases.get(phase.id)?.status === 'passed').length,
    };
    options.print('');
    options.print(
      `${summary.days} working days simulated: ${summary.tasksDone}/${summary.tasks} tasks done, ${summary.phasesPassed}/${plan.phases.length} phases passed, ${summary.posts} messages posted`,
    );
    return summary;
  } finally {
    await workflows?.stop();
    await dynamodb.stop();
  }
}

/**
 * The people's round: an approver decides a gate that waits (once the phase's tasks are all done,
 * accepting a CAUTION's risk, and a NO-GO's two times in three; otherwise holding it), and a target
 * acknowledges an open escalation half of the time.
 */
async function peopleTick(
  ports: Dependencies,
  plan: Plan,
  random: () => number,
  print: (line: string) => void,
  settle: () => Promise<void>,
) {
  const project = plan.project.id;
  for (const gate of await ports.gates.listGates(project)) {
    if (gate.status !== 'awaiting-decision' || !gate.latest) continue;
    const approver = plan.gates.find((candidate) => candidate.id === gate.gate)?.approvers[0];
    if (!approver) continue;
    // Work still open in the phase is not a risk an approver accepts: it would stay undone.
    const finished = gate.latest.evaluation.tasksNotDone.length === 0;
    const decision =
      finished && (gate.latest.decision === 'CAUTION' || random() < 2 / 3) ? 'advance' : 'hold';
    await decideGate(ports, {
      project,
      gate: gate.gate,
      decision,
      note: decision === 'advance' ? 'risk accepted in the simulation' : 'not yet',
      actor: { kind: 'person', id: approver },
    });
    print(`${approver} decides gate ${gate.gate}: ${decision}`);
    // The workflow goes on by itself (advance or hold, the escalation resolved): let it finish first,
    // so what follows sees the same state on every run.
    await settle();
  }
  for (const escalation of await ports.escalations.unresolvedEscalations(project)) {
    const target = escalation.targets[0];
    if (escalation.status !== 'open' || !target || random() >= 0.5) continue;
    try {
      await acknowledgeEscalation(ports, {
        project,
        id: escalation.id,
        actor: { kind: 'person', id: target },
      });
      print(`${target} acknowledges escalation ${escalation.rule} (${escalation.subject})`);
    } catch (error) {
      // The engine resolved it meanwhile (a gate decided, a condition cleared): nothing to acknowledge.
      if (!(error instanceof ConflictError)) throw error;
    }
  }
}

/** One round of every agent: heartbeat, work, finish, pick up the next ready task; sometimes block or fall silent. */
async function agentTick(ports: CoordinationPorts, plan: Plan, agents: AgentSim[], random: () => number) {
  const project = plan.project.id;
  const snapshot = (await ports.store.snapshot(project)) as ProjectSnapshot;
  const status = (id: string) => snapshot.tasks.get(id)?.status ?? 'todo';
  for (const agent of agents) {
    const definition = plan.agents.find((candidate) => candidate.id === agent.id);
    const actor: Actor = { kind: 'agent', id: agent.id };
    if (agent.silentTicks > 0) {
      agent.silentTicks--;
      continue;
    }
    if (definition?.heartbeat && random() < CRASH_CHANCE / TICKS.length) {
      agent.silentTicks = 2;
      continue;
    }
    const move = async (task: string, to: 'in_progress' | 'in_review' | 'done') => {
      try {
        await transitionTask(ports, { project, task, to, actor });
        return true;
      } catch (error) {
        if (error instanceof ConflictError) return false;
        throw error;
      }
    };
    if (agent.task && agent.blockedTicks > 0) {
      agent.blockedTicks--;
      if (agent.blockedTicks === 0)
        await setBlocker(ports, { project, task: agent.task, reason: null, actor });
    } else if (agent.task && status(agent.task) === 'in_review') {
      await move(agent.task, 'done');
      agent.task = undefined;
    } else if (agent.task) {
      agent.progress += WORK_PER_TICK * agent.pace;
      const task = plan.phases
        .flatMap((phase) => phase.tasks)
        .find((candidate) => candidate.id === agent.task);
      if (task && agent.progress >= workingMinutes(task.estimate)) await move(agent.task, 'in_review');
      else if (random() < BLOCK_CHANCE) {
        agent.blockedTicks = 2;
        const reason = BLOCK_REASONS[Math.floor(random() * BLOCK_REASONS.length)] as string;
        await setBlocker(ports, { project, task: agent.task, reason, actor });
      }
    }
    if (!agent.task) {
      const ready = plan.phases
        .filter((phase) => snapshot.phases.get(phase.id)?.status === 'active')
        .flatMap((phase) => phase.tasks)
        .find(
          (task) =>
            task.agent === agent.id &&
            status(task.id) === 'todo' &&
            task.dependsOn.every((predecessor) => status(predecessor) === 'done'),
        );
      if (ready && (await move(ready.id, 'in_progress'))) {
        agent.task = ready.id;
        agent.progress = 0;
      }
    }
    if (definition?.heartbeat || agent.task) {
      const task = plan.phases
        .flatMap((phase) => phase.tasks)
        .find((candidate) => candidate.id === agent.task);
      const completion = task
        ? Math.min(100, Math.round((100 * agent.progress) / workingMinutes(task.estimate)))
        : undefined;
      await recordHeartbeat(ports, {
        project,
        agent: agent.id,
        ...(agent.task ? { task: agent.task } : {}),
        ...(completion === undefined ? {} : { completion }),
        risk: agent.blockedTicks > 0 ? 'yellow' : 'green',
        actor,
      });
    }
  }
}

/** A heartbeat from every agent that has an interval and is not silent, naming its task. */
async function keepAlive(ports: CoordinationPorts, plan: Plan, agents: readonly AgentSim[]) {
  for (const agent of agents) {
    const definition = plan.agents.find((candidate) => candidate.id === agent.id);
    if (!definition?.heartbeat || agent.silentTicks > 0) continue;
    await recordHeartbeat(ports, {
      project: plan.project.id,
      agent: agent.id,
      ...(agent.task ? { task: agent.task } : {}),
      actor: { kind: 'agent', id: agent.id },
    });
  }
}

/**
 * The metrics the plan's gates and escalation conditions look at, each a seeded random walk from
 * the wrong side of its bound toward the right side over the simulated weeks.
 */
function driftingMetrics(plan: Plan, random: () => number) {
  const computed = new Set(['schedule.slip_days', 'tasks.stale', 'tasks.blocked', 'agents.down']);
  const bounds = new Map<string, { op: string; value: number }>();
  const conditions = [
    ...plan.gates.flatMap((gate) => gate.criteria.map((criterion) => criterion.go)),
    ...plan.escalations.flatMap((rule) => (rule.when ? [rule.when] : [])),
  ];
  for (const text of conditions) {
    const condition = parseCondition(text);
    if (!computed.has(condition.metric) && !bounds.has(condition.metric))
      bounds.set(condition.metric, { op: condition.op, value: condition.value });
  }
  return [...bounds].map(([name, bound]) => {
    const rising = bound.op === '>=' || bound.op === '>';
    const scale = bound.value === 0 ? 5 : Math.abs(bound.value);
    let value = rising
      ? bound.value - 0.3 * scale
      : bound.op === '=='
        ? Math.ceil(3 * random())
        : bound.value + 0.3 * scale;
    return {
      name,
      next(_day: number) {
        const step = 0.04 * scale * (random() - 0.35);
        if (bound.op === '==') value = Math.max(0, value - (random() < 0.3 ? 1 : 0));
        else value += rising ? step : -step;
        return Math.round(value * 100) / 100;
      },
    };
  });
}

async function readPlan(file: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SimulationError(`cannot read the plan ${file}: ${(error as Error).message}`);
  }
  const parsed = parsePlan(text, { file });
  if (!parsed.ok)
    throw new SimulationError(`the plan is invalid:\n${parsed.errors.map(formatPlanError).join('\n')}`);
  return parsed.plan;
}

const weekdayName = (date: string) =>
  new Intl.DateTimeFormat('en-GB', { weekday: 'short', timeZone: 'UTC' }).format(
    new Date(`${date}T12:00:00Z`),
  );

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ');
