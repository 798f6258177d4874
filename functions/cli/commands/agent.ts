import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { AgentState, type RememberedIdentity } from '../agent-state.js';
import { ApiError, request, resolveTarget, type Target } from '../client.js';
import type { Command } from '../command.js';
import { EXIT, type Io, type Style, styler, UsageError } from '../io.js';
import { connection } from './apply.js';
import { mcpUrl } from './mcp.js';

export const AGENT_ACTIONS = [
  'next',
  'start',
  'progress',
  'block',
  'unblock',
  'handoff',
  'done',
  'release',
] as const;
export type AgentAction = (typeof AGENT_ACTIONS)[number];

const RISKS = ['green', 'yellow', 'red'] as const;

/** Options every action takes. */
const COMMON = ['url', 'token', 'project', 'agent', 'json'];

/** The options each action takes besides the common ones. */
const ACTION_OPTIONS: Readonly<Record<AgentAction, readonly string[]>> = {
  next: ['task'],
  start: ['note', 'lease'],
  progress: ['completion', 'risk', 'note'],
  block: ['reason', 'lease'],
  unblock: ['note', 'lease'],
  handoff: ['to', 'check', 'all-checked', 'notes', 'note', 'lease'],
  done: ['note', 'lease'],
  release: ['lease'],
};

/** Actions that write on one task, and so send the claim's lease. */
const FENCED: ReadonlySet<AgentAction> = new Set(['start', 'block', 'unblock', 'handoff', 'done', 'release']);

/** One `convoy agent` call, parsed and checked: what to send, before knowing where or as whom. */
export interface AgentRequest {
  readonly action: AgentAction;
  readonly task?: string;
  /** The request body, without the lease (added once the remembered one is known). */
  readonly body: Record<string, unknown>;
  /** `--lease`: sent instead of the remembered one. */
  readonly lease?: string;
  /** handoff `--all-checked`: confirm every item of the plan's checklist, read from the server. */
  readonly allChecked?: boolean;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Checks the action's arguments and options; UsageError naming what is wrong. No I/O. */
export function parseAgentArgs(
  positionals: readonly string[],
  values: Readonly<Record<string, unknown>>,
): AgentRequest {
  const [action, ...rest] = positionals;
  if (action === undefined)
    throw new UsageError(`name an action: convoy agent ${AGENT_ACTIONS.join('|')} [TASK]`);
  if (!(AGENT_ACTIONS as readonly string[]).includes(action))
    throw new UsageError(`unknown action ${action}; expected one of ${AGENT_ACTIONS.join(', ')}`);
  const act = action as AgentAction;
  const allowed = new Set([...COMMON, ...ACTION_OPTIONS[act]]);
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || allowed.has(name)) continue;
    const owners = AGENT_ACTIONS.filter((candidate) => ACTION_OPTIONS[candidate].includes(name));
    throw new UsageError(`--${name} goes with ${owners.join(' or ')}, not ${act}`);
  }
  if (rest.length > 1) throw new UsageError(`unexpected argument ${rest[1]}`);
  const positional = rest[0];
  const optionTask = text(values.task);
  if (positional !== undefined && optionTask !== undefined && positional !== optionTask)
    throw new UsageError(`two tasks named: ${positional} and --task ${optionTask}; name one`);
  const task = positional ?? optionTask;
  if (task === undefined && act !== 'next' && act !== 'progress')
    throw new UsageError(`name the task: convoy agent ${act} TASK`);
  const note = text(values.note);
  const lease = text(values.lease);
  const base = { action: act, ...(task !== undefined ? { task } : {}), ...(lease ? { lease } : {}) };
  switch (act) {
    case 'next':
      return { ...base, body: task !== undefined ? { task } : {} };
    case 'start':
    case 'done':
      return { ...base, body: { to: act === 'start' ? 'in_progress' : 'done', ...(note ? { note } : {}) } };
    case 'progress': {
      const body: Record<string, unknown> = { ...(task !== undefined ? { task } : {}) };
      if (values.completion !== undefined) {
        const completion = Number(values.completion);
        if (
          text(values.completion)?.trim() === '' ||
          !Number.isFinite(completion) ||
          completion < 0 ||
          completion > 100
        )
          throw new UsageError(
            `--completion must be a number from 0 to 100, got ${String(values.completion)}`,
          );
        body.completion = completion;
      }
      const risk = text(values.risk);
      if (risk !== undefined) {
        if (!(RISKS as readonly string[]).includes(risk))
          throw new UsageError(`--risk must be one of ${RISKS.join(', ')}, got ${risk}`);
        body.risk = risk;
      }
      if (note) body.note = note;
      return { ...base, body };
    }
    case 'block': {
      const reason = text(values.reason)?.trim();
      if (!reason) throw new UsageError(`say what blocks it: convoy agent block ${task} --reason TEXT`);
      return { ...base, body: { reason } };
    }
    case 'unblock':
      return { ...base, body: note ? { note } : {} };
    case 'handoff': {
      const to = (text(values.to) ?? '')
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== '');
      if (to.length === 0)
        throw new UsageError(`name the tasks that continue it: convoy agent handoff ${task} --to T2[,T3]`);
      const checks = (values.check as readonly string[] | undefined) ?? [];
      const allChecked = values['all-checked'] === true;
      if (allChecked && checks.length > 0)
        throw new UsageError('give --check items or --all-checked, not both');
      const notes = text(values.notes) ?? note;
      if (text(values.notes) !== undefined && note !== undefined)
        throw new UsageError('give --notes once (--note is the same option for handoff)');
      return {
        ...base,
        body: {
          task,
          to,
          checklist: Object.fromEntries(checks.map((item) => [item, true])),
          ...(notes ? { notes } : {}),
        },
        ...(allChecked ? { allChecked } : {}),
      };
    }
    case 'release':
      return { ...base, body: {} };
  }
}

/** The API route of an action, under `/v1/plans/{project}`. */
export function routeOf(request: AgentRequest, agent: string): { method: string; path: string } {
  const task = encodeURIComponent(request.task ?? '');
  const agentPath = `/agents/${encodeURIComponent(agent)}`;
  switch (request.action) {
    case 'next':
      return { method: 'POST', path: `${agentPath}/claim` };
    case 'progress':
      return { method: 'POST', path: `${agentPath}/heartbeat` };
    case 'start':
    case 'done':
      return { method: 'POST', path: `/tasks/${task}/transitions` };
    case 'block':
      return { method: 'POST', path: `/tasks/${task}/blocker` };
    case 'unblock':
      return { method: 'DELETE', path: `/tasks/${task}/blocker` };
    case 'handoff':
      return { method: 'POST', path: '/handoffs' };
    case 'release':
      return { method: 'POST', path: `/tasks/${task}/release` };
  }
}

/** `14:32` for a time later today, else `2026-01-06 09:15`: the machine's local time. */
export function clock(iso: string, now: Date = new Date()): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  const sameDay =
    at.getFullYear() === now.getFullYear() &&
    at.getMonth() === now.getMonth() &&
    at.getDate() === now.getDate();
  return sameDay ? time : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`;
}

/** A lease id cut short for a terminal line: `L1a2b…`; --json and the state file keep it whole. */
const short = (lease: string) => (lease.length > 6 ? `${lease.slice(0, 6)}…` : lease);

interface TaskAnswer {
  readonly task?: {
    id?: string;
    title?: string;
    status?: string;
    blocked?: boolean;
    blockedReason?: string;
    /** The agent the plan assigns the task to, if any. */
    agent?: string;
  };
  readonly changed?: boolean;
  readonly phases?: Record<string, string>;
  readonly lease?: { id: string; expiresAt: string };
  readonly reason?: string;
  readonly released?: boolean;
  readonly created?: boolean;
  readonly handoff?: { task?: string; to?: readonly string[] };
  readonly agent?: { id?: string; completion?: number; risk?: string };
}

/** The one line each action prints for the server's answer. */
export function describeResult(
  request: AgentRequest,
  agent: string,
  answer: TaskAnswer,
  style: (s: Style, t: string) => string = (_s, t) => t,
  now: Date = new Date(),
): string {
  const id = answer.task?.id ?? request.task ?? '';
  const ok = style('green', '✓');
  const phases = Object.entries(answer.phases ?? {})
    .map(([phase, status]) => `phase ${phase} ${status}`)
    .join(', ');
  const phaseNote = phases ? `; ${phases}` : '';
  switch (request.action) {
    case 'next': {
      if (!answer.task) {
        const reason = answer.reason ?? `nothing is ready for ${agent}`;
        return /^nothing\b/i.test(reason) ? reason : `nothing ready: ${reason}`;
      }
      const title = answer.task.title && answer.task.title !== id ? ` "${answer.task.title}"` : '';
      // A lease on a task the plan gives this agent never lapses (docs/agents.md): no expiry to show.
      const lease = answer.lease
        ? ` (lease ${short(answer.lease.id)} ${answer.task.agent === agent ? 'yours by the plan' : `until ${clock(answer.lease.expiresAt, now)}`})`
        : '';
      return `${ok} claimed ${id}${title}${lease}`;
    }
    case 'start':
      return answer.changed
        ? `${ok} started ${id} (${answer.task?.status ?? 'in_progress'})${phaseNote}`
        : `${id} is already ${answer.task?.status ?? 'in_progress'}; nothing changed`;
    case 'done':
      return answer.changed ? `${ok} done ${id}${phaseNote}` : `${id} is already done; nothing changed`;
    case 'block':
      return answer.changed
        ? `${ok} blocked ${id}: ${answer.task?.blockedReason ?? String(request.body.reason)}`
        : `${id} is already blocked for that reason; nothing changed`;
    case 'unblock':
      return answer.changed ? `${ok} unblocked ${id}${phaseNote}` : `${id} was not blocked; nothing changed`;
    case 'handoff': {
      const to = (answer.handoff?.to ?? (request.body.to as string[])).join(', ');
      return answer.created
        ? `${ok} handed off ${id} to ${to}`
        : `the handoff of ${id} to ${to} was already recorded; nothing changed`;
    }
    case 'release':
      return answer.released
        ? `${ok} released ${id}: it is ready for another agent to claim`
        : `${id} was not claimed; nothing released`;
    case 'progress': {
      const parts = [
        ...(request.body.completion !== undefined ? [`${request.body.completion}%`] : []),
        ...(request.body.risk !== undefined ? [`risk ${request.body.risk}`] : []),
      ];
      const on = request.body.task !== undefined ? ` on ${request.body.task}` : '';
      return `${ok} heartbeat from ${agent}${on}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
    }
  }
}

/** A failure to report on stderr with exit code 1 (not a usage mistake). */
class AgentFailure extends Error {}

const TOKEN_ID = /^cvy_([0-9a-f]{16})_/;

/** Who the token acts as, from the server's MCP `whoami` tool (there is no REST route for it). */
async function whoami(target: Target, project: string | undefined): Promise<RememberedIdentity> {
  const client = new Client({ name: 'convoy-agent-cli', version: '0.1.0' });
  try {
    await client.connect(
      new StreamableHTTPClientTransport(mcpUrl(target.url, project ? { project } : {}), {
        requestInit: { headers: { authorization: `Bearer ${target.token}` } },
      }),
    );
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    const me = result.structuredContent as Partial<RememberedIdentity> | undefined;
    if (result.isError || !me?.kind || !me.project) {
      const message = (result.content as { text?: string }[] | undefined)?.[0]?.text;
      throw new Error(message ?? 'the server did not say');
    }
    return { kind: me.kind, ...(me.id ? { id: me.id } : {}), project: me.project };
  } finally {
    await client.close().catch(() => undefined);
  }
}

interface AgentTarget {
  readonly target: Target & { readonly project: string };
  readonly agent: string;
}

/**
 * Where and as whom: the URL from --url, $CONVOY_URL, then the running convoy dev; the token from
 * --token, $CONVOY_TOKEN, then convoy dev's admin token; the agent from --agent, $CONVOY_AGENT, then the
 * token's own agent; the project from --project, $CONVOY_PROJECT, then the token's, then convoy dev's.
 * The token's agent and project come from the server's whoami, asked once per token and remembered.
 */
async function resolveAgentTarget(
  values: Readonly<Record<string, unknown>>,
  state: AgentState,
  env: NodeJS.ProcessEnv = process.env,
): Promise<AgentTarget> {
  const url = text(values.url) ?? (env.CONVOY_URL || undefined);
  const explicitProject = text(values.project) ?? (env.CONVOY_PROJECT || undefined);
  const base = await resolveTarget({
    ...(url ? { url } : {}),
    ...(explicitProject ? { project: explicitProject } : {}),
    ...(text(values.token) ? { token: text(values.token) } : {}),
  });
  if (!base.token) throw new UsageError('no token: set CONVOY_TOKEN (or pass --token) to the agent’s token');
  // convoy dev's project, only when the URL is convoy dev's too.
  const devProject = explicitProject === undefined && url === undefined ? base.project : undefined;
  let agent = text(values.agent) ?? (env.CONVOY_AGENT || undefined);
  let project = explicitProject;
  if (agent === undefined || project === undefined) {
    const tokenId = TOKEN_ID.exec(base.token)?.[1];
    let me = tokenId ? await state.identity(base.url, tokenId) : undefined;
    if (me && project !== undefined && me.project !== project) me = undefined;
    if (!me) {
      try {
        me = await whoami(base, project);
      } catch (error) {
        // An admin token names no project of its own: ask again in convoy dev's.
        if (project !== undefined || devProject === undefined)
          throw new AgentFailure(
            `cannot tell whom the token acts as (${(error as Error).message}); pass --agent and --project`,
          );
        me = await whoami(base, devProject).catch((again: Error) => {
          throw new AgentFailure(
            `cannot tell whom the token acts as (${again.message}); pass --agent and --project`,
          );
        });
      }
      if (tokenId && me.kind !== 'admin') await state.rememberIdentity(base.url, tokenId, me);
    }
    project ??= me.project;
    if (agent === undefined) {
      if (me.kind !== 'agent')
        throw new UsageError(
          `the token acts as ${me.kind === 'person' ? `person ${me.id}` : 'an admin'}${
            me.kind === 'admin' && !text(values.token) && !env.CONVOY_TOKEN
              ? ' (convoy dev’s, since CONVOY_TOKEN is not set)'
              : ''
          }, not as an agent: pass --agent ID or set CONVOY_AGENT`,
        );
      agent = me.id as string;
    }
  }
  return { target: { ...base, project }, agent };
}

export const agentCommand: Command = {
  name: 'agent',
  usage:
    'convoy agent next [--task T] | start T | progress [T] [--completion N] [--risk R] [--note TEXT] | block T --reason TEXT | unblock T | handoff T --to T2[,T3] [--check ITEM]… [--all-checked] [--notes TEXT] | done T [--note TEXT] | release T  [--json]',
  details: [
    'next claims a task (the one named, or the next ready one this agent may take) and prints it with its',
    'lease; or, when nothing is ready, what it waits for. start and done move a task to in_progress and done;',
    'progress sends a heartbeat (naming a task renews its lease; with no TASK and one remembered lease, that',
    'task); block and unblock raise and clear a blocker; handoff passes the task to the tasks that continue it;',
    'release gives a claim back. Each prints one line, or the API’s JSON with --json; an error exits 1 with the',
    'server’s message.',
    'The lease next returns is remembered on this machine, in $XDG_STATE_HOME/convoy (by default',
    '~/.local/state/convoy, files 0600), and sent with every later write on that task (--lease overrides it);',
    'done and release forget it.',
    'Token: --token, then $CONVOY_TOKEN. URL: --url, then $CONVOY_URL, then the running convoy dev. Agent:',
    '--agent, then $CONVOY_AGENT, then the agent token’s own (asked once of the server and remembered).',
    'Project: --project, then $CONVOY_PROJECT, then the token’s, then convoy dev’s.',
  ],
  options: {
    ...connection,
    project: {
      type: 'string',
      value: 'ID',
      description: 'project id (default: $CONVOY_PROJECT, then the token’s, then convoy dev’s)',
    },
    agent: {
      type: 'string',
      value: 'ID',
      description: 'the agent to act as (default: $CONVOY_AGENT, then the agent token’s own)',
    },
    task: { type: 'string', value: 'T', description: 'next: claim this task rather than the next ready one' },
    lease: {
      type: 'string',
      value: 'ID',
      description: 'the claim’s lease id to send (default: the one next remembered for the task)',
    },
    completion: { type: 'string', value: 'N', description: 'progress: percent complete, 0 to 100' },
    risk: { type: 'string', value: 'R', description: 'progress: green, yellow or red' },
    note: {
      type: 'string',
      value: 'TEXT',
      description: 'why, kept in the audit trail (start, done, progress, unblock)',
    },
    reason: { type: 'string', value: 'TEXT', description: 'block: what blocks the task' },
    to: { type: 'string', value: 'T2[,T3]', description: 'handoff: the tasks that continue it' },
    check: {
      type: 'string',
      multiple: true,
      value: 'ITEM',
      description: 'handoff: a checklist item confirmed (repeat for each item)',
    },
    'all-checked': { type: 'boolean', description: 'handoff: confirm every item of the plan’s checklist' },
    notes: { type: 'string', value: 'TEXT', description: 'handoff: context for whoever continues' },
    json: { type: 'boolean', description: 'print the JSON the API returns' },
  },
  async run({ positionals, values }, io) {
    const parsed = parseAgentArgs(positionals, values);
    return runAgent(parsed, values, io, new AgentState());
  },
};

async function runAgent(
  parsed: AgentRequest,
  values: Readonly<Record<string, unknown>>,
  io: Io,
  state: AgentState,
): Promise<number> {
  const style = styler(io.color);
  let resolved: AgentTarget;
  try {
    resolved = await resolveAgentTarget(values, state);
  } catch (error) {
    if (!(error instanceof AgentFailure)) throw error;
    io.stderr(`${style('red', 'error:')} ${error.message}\n`);
    return EXIT.failed;
  }
  const { target, agent } = resolved;
  const base = `/v1/plans/${encodeURIComponent(target.project)}`;
  const remembered =
    FENCED.has(parsed.action) && parsed.task !== undefined && parsed.lease === undefined
      ? await state.lease(target.url, target.project, parsed.task)
      : undefined;
  const lease = parsed.lease ?? (remembered?.agent === agent ? remembered.lease : undefined);
  let body = parsed.body;
  // A heartbeat without a task renews the one claim this agent holds, if it remembers exactly one.
  if (parsed.action === 'progress' && parsed.task === undefined) {
    const held = await state.leasesOf(target.url, target.project, agent);
    if (held.length === 1) body = { task: (held[0] as { task: string }).task, ...body };
  }
  const sent: AgentRequest = { ...parsed, body };
  try {
    if (parsed.allChecked) {
      const { items } = await request<{ items: string[] }>(target, 'GET', `${base}/handoff-checklist`);
      body = { ...body, checklist: Object.fromEntries(items.map((item) => [item, true])) };
    }
    if (lease !== undefined) body = { ...body, lease };
    const { method, path } = routeOf(sent, agent);
    const answer = await request<TaskAnswer>(target, method, `${base}${path}`, {
      text: JSON.stringify(body),
      type: 'application/json',
    });
    if (parsed.action === 'next' && answer.task?.id && answer.lease)
      await state.remember({
        url: target.url,
        project: target.project,
        agent,
        task: answer.task.id,
        lease: answer.lease.id,
        expiresAt: answer.lease.expiresAt,
      });
    if ((parsed.action === 'done' || parsed.action === 'release') && parsed.task !== undefined)
      await state.forget(target.url, target.project, parsed.task);
    io.stdout(
      values.json
        ? `${JSON.stringify(answer, null, 2)}\n`
        : `${describeResult(sent, agent, answer, style)}\n`,
    );
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    io.stderr(`${style('red', 'error:')} ${error.status} ${error.message}\n`);
    if (error.code === 'lease_lost' && parsed.task !== undefined) {
      if (lease !== undefined && parsed.lease === undefined) {
        await state.forget(target.url, target.project, parsed.task);
        io.stderr(
          `the lease this machine remembered for ${parsed.task} is no longer valid and is forgotten; \`convoy agent next --task ${parsed.task}\` claims the task again if it is free\n`,
        );
      } else if (lease === undefined)
        io.stderr(
          `this machine remembers no lease for ${parsed.task}: if ${agent} holds its claim, pass --lease ID\n`,
        );
    }
    return EXIT.failed;
  }
}
