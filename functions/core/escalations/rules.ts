import { wallClockMillis } from '../plan/lexical.js';
import type { Agent, Plan } from '../plan/schema.js';
import type { Escalation, EscalationEvent, EscalationJiraIssue, EscalationRule } from './model.js';

/** Id of the rule Convoy adds for `agent.down` when the plan has none (seed 000's agent failure). */
export const BUILTIN_AGENT_DOWN_RULE = 'agent-down';

/**
 * Events that end an escalation of a built-in event type, besides the rule's own `resolvedBy`: an
 * agent that is back up is no longer down, a task that is unblocked is no longer blocked.
 */
export const CLEARING_EVENTS: Readonly<Record<string, string>> = {
  'agent.down': 'agent.up',
  'task.blocked': 'task.unblocked',
  // A conflict a push or PR raised ends when someone records that it is resolved (subject: the resource).
  'resource.conflict': 'resource.conflict_resolved',
};

/** Where the subject of a built-in event is found when the event has no `subject`. */
const SUBJECT_FIELDS: Readonly<Record<string, string>> = {
  'gate.no_go': 'gate',
  'gate.resolved': 'gate',
  'agent.down': 'agent',
  'agent.up': 'agent',
  'task.blocked': 'task',
  'task.unblocked': 'task',
  'member.unavailable': 'person',
};

/** The subject of escalations that are about the project as a whole (an event with no subject). */
export const PROJECT_SUBJECT = 'project';

/** The shortest reminder period, so a `0m` SLA cannot make the ladder spin. */
const MIN_PERIOD_MS = 60_000;

/**
 * The rules the engine runs: the plan's, plus — when no rule of the plan listens to `agent.down` —
 * a built-in one that tells the agent's owner (2h SLA, reminders every 2h) and ends when the agent
 * is back (`agent.up`). Seed 000's plan has no `agent.down` rule, yet its emergency procedures
 * escalate a failed agent to its owner.
 */
export function escalationRules(plan: Plan): readonly EscalationRule[] {
  const taken = new Set(plan.escalations.map((rule) => rule.id));
  const free = (id: string) => (taken.has(id) ? `convoy-${id}` : id);
  const builtins: EscalationRule[] = [];
  if (!plan.escalations.some((rule) => rule.on === 'agent.down'))
    builtins.push({
      id: free(BUILTIN_AGENT_DOWN_RULE),
      name: 'Agent down',
      on: 'agent.down',
      resolvedBy: 'agent.up',
      notify: ['owner'],
      sla: '2h',
      levels: [],
    });
  // A NO-GO gate waits for its approvers: the plan format gives them no rule, yet they must be asked.
  if (plan.gates.length > 0 && !plan.escalations.some((rule) => rule.on === GATE_NO_GO_EVENT))
    builtins.push({
      id: free(BUILTIN_GATE_RULE),
      name: 'Gate decision needed',
      on: GATE_NO_GO_EVENT,
      resolvedBy: GATE_RESOLVED_EVENT,
      notify: [APPROVERS_TARGET],
      sla: '1d',
      levels: [],
    });
  return builtins.length === 0 ? plan.escalations : [...plan.escalations, ...builtins];
}

/** Id of the rule Convoy adds so a NO-GO gate reaches its approvers. */
export const BUILTIN_GATE_RULE = 'gate-decision';
/** The event the gate workflow raises when a gate needs a person's decision (subject: the gate id). */
export const GATE_NO_GO_EVENT = 'gate.no_go';
/** The event that ends a gate's wait for a decision: someone decided, or the gate passed or was held. */
export const GATE_RESOLVED_EVENT = 'gate.resolved';
/** A target meaning the approvers of the gate an escalation is about. */
export const APPROVERS_TARGET = 'approvers';

export function findRule(plan: Plan, ruleId: string): EscalationRule | undefined {
  return escalationRules(plan).find((rule) => rule.id === ruleId);
}

/** Levels of a rule: its `notify` / `sla`, then its `levels`. */
export function levelCount(rule: EscalationRule): number {
  return 1 + rule.levels.length;
}

/** Level `level` (1-based) of a rule; a level past the last (after a plan change) is the last. */
export function ruleLevel(rule: EscalationRule, level: number): { notify: readonly string[]; sla: string } {
  if (level <= 1) return { notify: rule.notify, sla: rule.sla };
  return rule.levels[Math.min(level, levelCount(rule)) - 2] ?? { notify: rule.notify, sla: rule.sla };
}

/** A level's SLA in milliseconds (wall clock), at least a minute. */
export function levelSlaMillis(rule: EscalationRule, level: number): number {
  return Math.max(MIN_PERIOD_MS, wallClockMillis(ruleLevel(rule, level).sla));
}

/**
 * Person ids for a level's targets: `owner` / `backup` become the owner / backup of the agent the
 * escalation is about, and are dropped when it is about no agent or the agent has no backup.
 */
export function resolveTargets(
  plan: Plan,
  notify: readonly string[],
  agentId: string | undefined,
  subject?: string,
): string[] {
  const agent = agentId === undefined ? undefined : findAgent(plan, agentId);
  const people = notify.flatMap((target) => {
    if (target === 'owner') return agent ? [agent.owner] : [];
    if (target === 'backup') return agent?.backup ? [agent.backup] : [];
    if (target === APPROVERS_TARGET) return plan.gates.find((gate) => gate.id === subject)?.approvers ?? [];
    return [target];
  });
  return [...new Set(people)];
}

/** Everyone named by the levels 1 … `level` of the escalation's rule, resolved through its agent. */
export function targetsUpTo(plan: Plan, rule: EscalationRule, escalation: Escalation): string[] {
  const levels = Array.from({ length: Math.min(escalation.level, levelCount(rule)) }, (_, i) =>
    resolveTargets(plan, ruleLevel(rule, i + 1).notify, escalation.agent, escalation.subject),
  );
  return [...new Set([...levels.flat(), ...escalation.targets])];
}

export function findAgent(plan: Plan, agentId: string): Agent | undefined {
  return plan.agents.find((agent) => agent.id === agentId);
}

/** The subject an event gives an escalation, or undefined when the event names none. */
export function eventSubject(event: EscalationEvent): string | undefined {
  if (event.subject !== undefined && event.subject !== '') return event.subject;
  const field = SUBJECT_FIELDS[event.type];
  const value = field === undefined ? undefined : event.data?.[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The agent an escalation is about: its subject when that is an agent, the agent the plan assigns
 * its subject to when that is a task, else the event's `data.agent` when that names an agent (for an
 * unassigned task, the agent that claimed it).
 */
export function agentAbout(
  plan: Plan,
  subject: string,
  data?: Readonly<Record<string, unknown>>,
): string | undefined {
  if (findAgent(plan, subject)) return subject;
  for (const phase of plan.phases) {
    const task = phase.tasks.find((candidate) => candidate.id === subject);
    // An unassigned task is about the agent the event names (the one that claimed it), if any.
    if (task?.agent !== undefined) return task.agent;
    if (task) break;
  }
  const named = data?.agent;
  return typeof named === 'string' && findAgent(plan, named) ? named : undefined;
}

/** The JIRA issue a rule asks for when one of its escalations opens (its `jira` field), if any. */
export function wantsJiraIssue(rule: EscalationRule): EscalationJiraIssue | undefined {
  return rule.jira === undefined ? undefined : { project: rule.jira.project, type: rule.jira.type };
}

/** The time an agent gets to come back before Convoy proposes a reassignment. */
export function restartMillis(plan: Plan, rule: EscalationRule, agentId: string): number {
  const agent = findAgent(plan, agentId);
  return agent?.restartSla ? wallClockMillis(agent.restartSla) : levelSlaMillis(rule, 1);
}
