import { McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod';
import { claimTask, releaseTask } from '../../core/coordination/claims.js';
import {
  recordHandoff,
  recordHeartbeat,
  recordMetrics,
  setBlocker,
  transitionTask,
} from '../../core/coordination/commands.js';
import { acquireLease, releaseLease } from '../../core/coordination/leases.js';
import { type Actor, describeActor } from '../../core/coordination/model.js';
import { getTask, listTasks } from '../../core/coordination/tasks.js';
import { ConvoyError, NotFoundError, ValidationError } from '../../core/errors.js';
import { acknowledgeEscalation, resolveEscalation } from '../../core/escalations/service.js';
import { decideGate } from '../../core/gates/service.js';
import { leaseDuration } from '../../core/plan/lease.js';
import { ID_PATTERN, TASK_STATUSES, wallClockMillis } from '../../core/plan/lexical.js';
import type { Plan } from '../../core/plan/schema.js';
import type { Dependencies } from '../dependencies.js';
import { validate } from '../http/api.js';
import {
  blockerBody,
  escalationActionBody,
  gateDecisionBody,
  handoffBody,
  heartbeatBody,
  MAX_NAME_LENGTH,
  metricsBody,
  transitionBody,
  unblockBody,
} from '../http/schemas.js';
import { loadStatusView } from '../status-view.js';

/** Which tools a client is served: all of them, or only the core agent loop (`?tools=core`, `CONVOY_MCP_TOOLS=core`). */
export type ToolSet = 'all' | 'core';
export const TOOL_SETS: readonly ToolSet[] = ['all', 'core'];

/** The tools of an agent's loop: what `core` serves, to keep a client's context small. */
export const CORE_TOOLS = [
  'whoami',
  'next_task',
  'get_task',
  'update_task',
  'report_progress',
  'raise_blocker',
  'clear_blocker',
  'hand_off',
  'release',
] as const;

/** Tools only a person (or an admin) is offered: agents never steer escalations or gates. */
export const PERSON_TOOLS = ['ack_escalation', 'resolve_escalation', 'decide_gate'] as const;

/** Who the MCP request acts as and for which project: from the bearer token, as for the REST API. */
export interface McpSession {
  readonly actor: Actor;
  readonly project: string;
  readonly tools: ToolSet;
}

export const SERVER_INFO = { name: 'convoy', version: '0.1.0' } as const;

const INSTRUCTIONS =
  'Convoy coordinates AI agents and people through a plan. Loop: next_task claims work (keep the lease id ' +
  'it returns) → report_progress while you work (it renews the lease) → update_task to in_review / done, ' +
  'or hand_off to the tasks that continue it; raise_blocker when stuck; release gives a task back. ' +
  'whoami shows who this token acts as.';

// ---------------------------------------------------------------------------------------------------------
// Input schemas: the REST API's body schemas (http/schemas.ts) plus the path parameter each route takes.

const taskId = z.string().regex(ID_PATTERN, 'a task id like api-1').describe('The task id');
const leaseId = z
  .string()
  .min(1)
  .max(MAX_NAME_LENGTH)
  .describe('The lease id next_task returned for this task (needed once the task is claimed)');
const agentArg = z
  .string()
  .regex(ID_PATTERN)
  .describe('Only for a person or admin token: the agent to act for (an agent token always acts as itself)');

const whoamiInput = z.strictObject({});
const nextTaskInput = z.strictObject({
  task: taskId.optional().describe('A task to claim; leave out to claim the next ready task'),
  agent: agentArg.optional(),
});
const getTaskInput = z.strictObject({ task: taskId });
const listTasksInput = z.strictObject({
  status: z.enum(TASK_STATUSES).optional(),
  phase: z.string().regex(ID_PATTERN).optional(),
  agent: z.string().regex(ID_PATTERN).optional(),
  ready: z.boolean().optional().describe('Only tasks ready to start (predecessors done, phase active)'),
});
const updateTaskInput = transitionBody.extend({ task: taskId, lease: leaseId.optional() });
const reportProgressInput = heartbeatBody.extend({ agent: agentArg.optional() });
const raiseBlockerInput = blockerBody.extend({ task: taskId, lease: leaseId.optional() });
const clearBlockerInput = unblockBody.extend({ task: taskId, lease: leaseId.optional() });
const handOffInput = handoffBody.omit({ override: true }).extend({ lease: leaseId.optional() });
/** `POST …/metrics` takes one point or `{metrics: [...]}`; the tool takes the list. */
const postMetricsInput = metricsBody.options[1];
const leaseInput = z.strictObject({
  resource: z.string().regex(ID_PATTERN).optional().describe('A resource of the plan'),
  paths: z.array(z.string().min(1).max(200)).min(1).max(20).optional().describe('File globs like src/api/**'),
  mode: z.enum(['exclusive', 'shared']),
  ttl: z
    .union([
      z.string().regex(/^\d+(\.\d+)?(m|h|d|w)$/, 'a wall-clock duration like 30m'),
      z.number().int().min(1),
    ])
    .optional()
    .describe('How long the lease lives without a heartbeat: "30m", or seconds'),
  task: taskId.optional().describe('The task the lease is for'),
});
const releaseInput = z.strictObject({
  task: taskId.optional().describe('Give a claimed task back (ready for others)'),
  lease: z
    .string()
    .min(1)
    .max(MAX_NAME_LENGTH)
    .optional()
    .describe("With task: the claim's lease id (next_task gave it). Alone: the resource lease to end"),
});
const planStatusInput = z.strictObject({});
const escalationInput = escalationActionBody.extend({
  id: z.string().min(1).max(MAX_NAME_LENGTH).describe('The escalation id, as plan_status lists it'),
});
const decideGateInput = gateDecisionBody.extend({ gate: z.string().regex(ID_PATTERN) });

// ---------------------------------------------------------------------------------------------------------
// Output schemas: the fields an agent relies on; each object may carry more (the REST API's full answer).

const taskState = z.looseObject({
  id: z.string(),
  status: z.enum(TASK_STATUSES),
  blocked: z.boolean(),
});
const taskView = z.looseObject({ id: z.string(), title: z.string(), status: z.enum(TASK_STATUSES) });
const taskResult = z.looseObject({
  task: taskState,
  changed: z.boolean(),
  phases: z.record(z.string(), z.string()),
});

const whoamiOutput = z.object({
  actor: z.string().describe('How the audit trail names you: agent:<id>, person:<id> or admin'),
  kind: z.enum(['agent', 'person', 'admin']),
  id: z.string().optional(),
  project: z.string(),
  agent: z
    .object({
      name: z.string(),
      owner: z.string(),
      backup: z.string().optional(),
      heartbeat: z.string().optional(),
      leaseSeconds: z.number().describe('How long a claim or lease of yours lives without a heartbeat'),
      tasks: z.array(
        z.object({
          id: z.string(),
          title: z.string(),
          phase: z.string(),
          assigned: z.enum(['agent', 'pool', 'anyone']).describe('Why you may take it'),
        }),
      ),
    })
    .optional(),
  person: z.object({ name: z.string(), owns: z.array(z.string()), backs: z.array(z.string()) }).optional(),
  tools: z.array(z.string()),
});
const claimOutput = z.looseObject({
  task: taskView.nullable(),
  lease: z.object({ id: z.string(), expiresAt: z.string() }).optional(),
  reason: z.string().optional(),
});
const listTasksOutput = z.object({ tasks: z.array(taskView) });
const progressOutput = z.object({ agent: z.looseObject({ id: z.string() }) });
const handoffOutput = z.looseObject({ handoff: z.looseObject({ task: z.string() }), created: z.boolean() });
const metricsOutput = z.object({
  metrics: z.array(z.object({ name: z.string(), value: z.number(), at: z.string() })),
});
const leaseOutput = z.object({
  lease: z.looseObject({ id: z.string(), expiresAt: z.string(), mode: z.enum(['exclusive', 'shared']) }),
});
const releaseOutput = z.looseObject({ released: z.boolean() });
const planStatusOutput = z.object({
  project: z.string(),
  generatedAt: z.string(),
  activePhases: z.array(z.string()),
  phases: z.array(z.looseObject({ id: z.string(), status: z.string() })),
  gates: z.array(z.looseObject({ gate: z.string(), status: z.string() })),
  escalations: z.array(z.looseObject({ id: z.string() })),
  agentsDown: z.array(z.object({ id: z.string(), downSince: z.string().nullable() })),
  blocked: z.array(z.object({ task: z.string(), reason: z.string().nullable() })),
});
const escalationOutput = z.looseObject({
  escalation: z.looseObject({ id: z.string() }),
  changed: z.boolean(),
});
const gateDecisionOutput = z.object({ decision: z.looseObject({ decision: z.string() }) });

// ---------------------------------------------------------------------------------------------------------
// Errors: an isError result whose text says what went wrong and what to do next.

/** What an agent should do after an error of each code, appended to the error's own message. */
const NEXT_STEP: Readonly<Record<string, string>> = {
  lease_lost: 'call next_task for other work (get_task shows who holds this task now)',
  lease_conflict: 'lease other paths, or work on something else meanwhile (next_task)',
  forbidden: 'whoami shows who this token acts as; next_task and list_tasks show the work you may take',
  not_found: 'list_tasks shows the tasks of the plan; plan_status its phases, gates and escalations',
  conflict: 'get_task shows the task’s state, what it waits for and who holds it',
  invalid_request: 'fix the arguments and call again',
  unprocessable: 'get_task lists the handoff checklist; confirm every item (true) and call again',
  concurrent_update: 'call again',
};

/** The text of an error result: the error's message and the next step; never internals. */
export function errorText(error: unknown): string {
  if (error instanceof ConvoyError && error.code !== 'internal' && error.code !== 'http_error') {
    const next = NEXT_STEP[error.code];
    const message =
      error.code === 'concurrent_update' ? 'too many concurrent updates of the same item' : error.message;
    return next ? `${message}; ${next}` : message;
  }
  return 'something went wrong on Convoy’s side; call the tool again in a moment';
}

type Output = Record<string, unknown>;

/** The fields of `values` that are set: an optional argument left out stays out of the use case's input. */
function optional<T extends Record<string, unknown>>(
  values: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

function ok(output: unknown) {
  return {
    content: [{ type: 'text' as const, text: JSON.stringify(output) }],
    structuredContent: output as Output,
  };
}

// ---------------------------------------------------------------------------------------------------------

/** The agent an agent token acts as, or the one a person or admin names; an error otherwise. */
function agentOf(actor: Actor, named: string | undefined, tool: string): string {
  if (actor.kind === 'agent') return named ?? actor.id;
  if (named === undefined)
    throw new ValidationError(
      `arguments.agent: a ${actor.kind} token must name the agent ${tool} acts for (an agent token acts as itself)`,
    );
  return named;
}

function planTasks(plan: Plan) {
  return plan.phases.flatMap((phase) => phase.tasks.map((task) => ({ task, phase: phase.id })));
}

async function whoami(deps: Dependencies, session: McpSession, tools: readonly string[]) {
  const { actor, project } = session;
  const stored = await deps.store.currentPlan(project);
  if (!stored) throw new NotFoundError(`project ${project} has no plan yet; ask an admin to apply one`);
  const plan = stored.plan;
  const base = {
    actor: describeActor(actor),
    kind: actor.kind as 'agent' | 'person' | 'admin',
    ...('id' in actor ? { id: actor.id } : {}),
    project,
    tools: [...tools],
  };
  if (actor.kind === 'agent') {
    const agent = plan.agents.find((candidate) => candidate.id === actor.id);
    if (!agent) throw new NotFoundError(`agent ${actor.id} is not in the plan of project ${project}`);
    const tasks = planTasks(plan).flatMap(({ task, phase }) => {
      const pool = (task as { pool?: readonly string[] }).pool;
      const assigned = task.agent === agent.id ? 'agent' : pool?.includes(agent.id) ? 'pool' : undefined;
      const open = task.agent === undefined && pool === undefined ? 'anyone' : undefined;
      const why = assigned ?? open;
      return why
        ? [{ id: task.id, title: task.title, phase, assigned: why as 'agent' | 'pool' | 'anyone' }]
        : [];
    });
    return {
      ...base,
      agent: {
        name: agent.name,
        owner: agent.owner,
        ...(agent.backup ? { backup: agent.backup } : {}),
        ...(agent.heartbeat ? { heartbeat: agent.heartbeat } : {}),
        leaseSeconds: Math.round(leaseDuration(agent) / 1000),
        tasks,
      },
    };
  }
  if (actor.kind === 'person') {
    const person = plan.people.find((candidate) => candidate.id === actor.id);
    return {
      ...base,
      person: {
        name: person?.name ?? actor.id,
        owns: plan.agents.filter((agent) => agent.owner === actor.id).map((agent) => agent.id),
        backs: plan.agents.filter((agent) => agent.backup === actor.id).map((agent) => agent.id),
      },
    };
  }
  return base;
}

async function planStatus(deps: Dependencies, project: string) {
  const status = await loadStatusView(deps, project);
  return {
    project: status.project,
    generatedAt: status.generatedAt,
    activePhases: status.activePhases,
    phases: status.phases,
    gates: status.gates,
    escalations: status.escalations,
    agentsDown: status.agents
      .filter((agent) => agent.status === 'down')
      .map((agent) => ({ id: agent.id, downSince: agent.downSince })),
    blocked: status.tasks
      .filter((task) => task.blocked)
      .map((task) => ({ task: task.id, reason: task.reason })),
  };
}

interface ToolSpec {
  readonly title: string;
  readonly description: string;
  readonly input: z.ZodType;
  readonly output: z.ZodType;
  readonly readOnly?: boolean;
  readonly run: (args: never) => Promise<unknown>;
}

/**
 * The MCP server for one request: the tools `session` may use (person tools for people and admins
 * only; the core loop only when `session.tools` is `core`) and the `convoy://plan` and `convoy://status`
 * resources. Every tool runs the same use case as its REST route, with the same input schema, as the
 * token's actor.
 */
export function buildMcpServer(
  deps: Dependencies,
  session: McpSession,
  log: (message: string, error: unknown) => void = () => undefined,
): McpServer {
  const { actor, project } = session;
  const scope = { project, actor };
  const specs: Record<string, ToolSpec> = {
    whoami: {
      title: 'Who am I',
      description:
        'Who this token acts as in which project; for an agent, the tasks it may take and how long its leases live.',
      input: whoamiInput,
      output: whoamiOutput,
      readOnly: true,
      run: () => whoami(deps, session, names),
    },
    next_task: {
      title: 'Claim the next task',
      description:
        'Claims a task (the one named, or the next ready one: least slack first) and moves it to in_progress. ' +
        'Returns the task (deliverables, handoff checklist, what it unblocks) and a lease {id, expiresAt}: pass ' +
        'the lease id to update_task, raise_blocker, clear_blocker and hand_off; report_progress renews it. A ' +
        'lease on a task the plan assigns to you never lapses: its expiresAt may pass, and it still holds. ' +
        'task is null when nothing is ready, with the reason.',
      input: nextTaskInput,
      output: claimOutput,
      run: ({ task, agent }: z.output<typeof nextTaskInput>) =>
        claimTask(deps, { ...scope, agent: agentOf(actor, agent, 'next_task'), ...optional({ task }) }),
    },
    get_task: {
      title: 'Get a task',
      description:
        'One task: status, dependencies with their status, what it unblocks, who holds it and until when, ' +
        'deliverables, handoff checklist, JIRA key.',
      input: getTaskInput,
      output: taskView,
      readOnly: true,
      run: ({ task }: z.output<typeof getTaskInput>) => getTask(deps, { project, task, viewer: actor }),
    },
    list_tasks: {
      title: 'List tasks',
      description: 'The tasks of the plan, filtered by status, phase, agent, or ready to start.',
      input: listTasksInput,
      output: listTasksOutput,
      readOnly: true,
      run: (query: z.output<typeof listTasksInput>) =>
        listTasks(deps, { project, viewer: actor, ...optional(query) }),
    },
    update_task: {
      title: 'Move a task',
      description:
        'Moves a task along its lifecycle (todo → in_progress → in_review → done; cancelled). Once a task is ' +
        'claimed, pass the lease id next_task gave you. A task whose plan asks for evidence (a merged PR, green ' +
        'checks, a handoff, a metric) is done only with it: the refusal says what is missing and where it comes ' +
        'from. Its owner or an admin may override with override: true and a note saying why.',
      input: updateTaskInput,
      output: taskResult,
      run: ({ task, to, note, lease, override }: z.output<typeof updateTaskInput>) =>
        transitionTask(deps, { ...scope, task, to, ...optional({ note, lease, override }) }),
    },
    report_progress: {
      title: 'Report progress',
      description:
        'A heartbeat: you are alive, what you work on, how far along (0–100), at what risk. Naming the task ' +
        'renews its lease. Send one at least every heartbeat interval.',
      input: reportProgressInput,
      output: progressOutput,
      run: async ({ agent, ...heartbeat }: z.output<typeof reportProgressInput>) => ({
        agent: await recordHeartbeat(deps, {
          ...scope,
          ...heartbeat,
          agent: agentOf(actor, agent, 'report_progress'),
        }),
      }),
    },
    raise_blocker: {
      title: 'Raise a blocker',
      description: 'Marks a task blocked, with the reason; its owner is told and escalations may follow.',
      input: raiseBlockerInput,
      output: taskResult,
      run: ({ task, reason, lease }: z.output<typeof raiseBlockerInput>) =>
        setBlocker(deps, { ...scope, task, reason, ...optional({ lease }) }),
    },
    clear_blocker: {
      title: 'Clear a blocker',
      description: 'Lifts the blocker of a task.',
      input: clearBlockerInput,
      output: taskResult,
      run: ({ task, lease }: z.output<typeof clearBlockerInput>) =>
        setBlocker(deps, { ...scope, task, reason: null, ...optional({ lease }) }),
    },
    hand_off: {
      title: 'Hand off a task',
      description:
        'Hands a task in progress or in review over to the tasks that continue its work, confirming every ' +
        'item of the plan’s handoff checklist (get_task lists it).',
      input: handOffInput,
      output: handoffOutput,
      run: ({ task, to, checklist, notes, lease }: z.output<typeof handOffInput>) =>
        recordHandoff(deps, { ...scope, task, to, checklist, ...optional({ notes, lease }) }),
    },
    post_metrics: {
      title: 'Post metrics',
      description: 'Records metric points (coverage.unit, tps, …) that gates and escalation rules read.',
      input: postMetricsInput,
      output: metricsOutput,
      run: async ({ metrics }: z.output<typeof postMetricsInput>) => ({
        metrics: await recordMetrics(deps, { project, metrics }),
      }),
    },
    lease: {
      title: 'Lease a resource or files',
      description:
        'Takes a lease on a resource of the plan or on file globs: exclusive (nobody else) or shared. ' +
        'It lives for ttl (default: your lease duration); taking it again renews it; release {lease} ends it.',
      input: leaseInput,
      output: leaseOutput,
      run: async ({ ttl, resource, paths, mode, task }: z.output<typeof leaseInput>) => ({
        lease: await acquireLease(deps, {
          ...scope,
          mode,
          ...optional({ resource, paths, task }),
          ...(ttl !== undefined
            ? { ttlSeconds: typeof ttl === 'number' ? ttl : Math.round(wallClockMillis(ttl) / 1000) }
            : {}),
        }),
      }),
    },
    release: {
      title: 'Release a task or a lease',
      description:
        'release {task, lease} gives a claimed task back (ready for others; lease: the claim’s lease id); ' +
        'release {lease} alone ends a resource lease.',
      input: releaseInput,
      output: releaseOutput,
      run: ({ task, lease }: z.output<typeof releaseInput>) => {
        if (task === undefined && lease === undefined)
          throw new ValidationError(
            'arguments: give task (to give a claim back) or lease (to end a resource lease)',
          );
        return task !== undefined
          ? releaseTask(deps, { ...scope, task, ...optional({ lease }) })
          : releaseLease(deps, { ...scope, id: lease as string });
      },
    },
    plan_status: {
      title: 'Plan status',
      description:
        'Phases, gates with their latest decision, open escalations, who is down, what is blocked.',
      input: planStatusInput,
      output: planStatusOutput,
      readOnly: true,
      run: () => planStatus(deps, project),
    },
    ack_escalation: {
      title: 'Acknowledge an escalation',
      description: 'Acknowledges an open escalation that reached you: it stops climbing the ladder.',
      input: escalationInput,
      output: escalationOutput,
      run: ({ id, note }: z.output<typeof escalationInput>) =>
        acknowledgeEscalation(deps, { ...scope, id, ...(note ? { note } : {}) }),
    },
    resolve_escalation: {
      title: 'Resolve an escalation',
      description: 'Resolves an escalation, with a note for the audit trail.',
      input: escalationInput,
      output: escalationOutput,
      run: ({ id, note }: z.output<typeof escalationInput>) =>
        resolveEscalation(deps, { ...scope, id, ...(note ? { note } : {}) }),
    },
    decide_gate: {
      title: 'Decide a gate',
      description: 'An approver’s decision on a gate awaiting one: advance or hold, with a note.',
      input: decideGateInput,
      output: gateDecisionOutput,
      run: async ({ gate, decision, note }: z.output<typeof decideGateInput>) => ({
        decision: await decideGate(deps, { ...scope, gate, decision, ...(note ? { note } : {}) }),
      }),
    },
  };

  const names = Object.keys(specs).filter(
    (name) =>
      (session.tools === 'all' || (CORE_TOOLS as readonly string[]).includes(name)) &&
      (actor.kind !== 'agent' || !(PERSON_TOOLS as readonly string[]).includes(name)),
  );

  const server = new McpServer(SERVER_INFO, { instructions: INSTRUCTIONS });
  for (const name of names) {
    const spec = specs[name] as ToolSpec;
    server.registerTool(
      name,
      {
        title: spec.title,
        description: spec.description,
        inputSchema: spec.input as z.ZodObject,
        outputSchema: spec.output as z.ZodObject,
        annotations: { readOnlyHint: spec.readOnly ?? false, openWorldHint: false },
      },
      async (args: unknown) => {
        try {
          // The SDK checked the schema; this also refuses strings that are not well-formed Unicode, as the REST API does.
          const input = validate(spec.input, args ?? {}, 'arguments');
          return ok(await spec.run(input as never));
        } catch (error) {
          if (!(error instanceof ConvoyError)) log(`mcp tool ${name} failed`, error);
          return { content: [{ type: 'text' as const, text: errorText(error) }], isError: true };
        }
      },
    );
  }

  server.registerResource(
    'plan',
    'convoy://plan',
    { title: 'The plan', description: 'The plan as applied, JSON', mimeType: 'application/json' },
    async (uri) => {
      const stored = await deps.store.currentPlan(project);
      if (!stored) throw new NotFoundError(`project ${project} has no plan yet`);
      return {
        contents: [
          {
            uri: uri.href,
            mimeType: 'application/json',
            text: JSON.stringify({ version: stored.version, appliedAt: stored.appliedAt, plan: stored.plan }),
          },
        ],
      };
    },
  );
  server.registerResource(
    'status',
    'convoy://status',
    {
      title: 'The status',
      description: 'The coordination status, as GET /v1/plans/{project}/status answers it, JSON',
      mimeType: 'application/json',
    },
    async (uri) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify(await loadStatusView(deps, project)),
        },
      ],
    }),
  );
  return server;
}
