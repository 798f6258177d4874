/**
 * The bodies of the phase-gate workflow's Task states (statemachines/phase-gate.asl.json), one
 * function per state. Each is idempotent for its execution, step and counters, since Step Functions
 * may run a step again.
 *
 * @module
 */

import { passPhase } from '../coordination/commands.js';
import type { Actor } from '../coordination/model.js';
import { auditEvent, requirePlan } from '../coordination/records.js';
import { eventRecordedEvent, gateDecidedEvent } from '../domain-events.js';
import { NotFoundError } from '../errors.js';
import type { EscalationEvent } from '../escalations/model.js';
import { GATE_NO_GO_EVENT, GATE_RESOLVED_EVENT } from '../escalations/rules.js';
import type { GateNotice } from '../integrations/model.js';
import type { Plan } from '../plan/index.js';
import { cautionWindowMillis, recordGateDecision } from './decision.js';
import { evaluateGate, findGate } from './evaluate.js';
import { type GatePorts, updateGate } from './service.js';
import type { GateStepEvent, GateStepEventOf, GateSteps, GateStepVerdict } from './workflow.js';

const SYSTEM: Actor = { kind: 'system' };

/** Every step by its name: what the `gate-step` function dispatches on. */
export function gateSteps(ports: GatePorts): GateSteps {
  return {
    evaluate: (event) => evaluateStep(ports, event),
    caution: (event) => cautionStep(ports, event),
    'request-decision': (event) => requestDecisionStep(ports, event),
    advance: (event) => advanceStep(ports, event),
    hold: (event) => holdStep(ports, event),
    'escalate-failure': (event) => escalateFailureStep(ports, event),
  };
}

/**
 * `Evaluate`: evaluates the gate's criteria and the phase's tasks, records the decision with its
 * metric values in the gate's history, the audit trail and the domain events, and returns the verdict
 * with the gate's CAUTION limits for the workflow's choice.
 */
export async function evaluateStep(
  ports: GatePorts,
  event: GateStepEventOf<'evaluate'>,
): Promise<GateStepVerdict> {
  const { plan } = await requirePlan(ports, event.project);
  const gate = findGate(plan, event.gate);
  const snapshot = await ports.store.snapshot(event.project);
  if (!snapshot) throw new NotFoundError(`project ${event.project} has no state`);
  const now = ports.clock.now();
  const evaluation = evaluateGate(plan, gate.id, { metrics: snapshot.metrics, tasks: snapshot.tasks }, now);
  const decision = recordGateDecision({ plan, evaluation, attempt: event.attempt, now });
  // `gate.decided` is written with the decision; the publisher delivers it from the table's stream.
  await ports.gates.recordGateDecision(event.project, decision, event.cautions, [
    gateDecidedEvent(event.project, decision),
  ]);
  await updateGate(ports, event.project, gate.id, event.attempt, (current) => ({
    ...current,
    latest: decision,
  }));
  await ports.store.appendEvents(event.project, [
    auditEvent(ports, decision.at, SYSTEM, {
      type: 'gate.evaluated',
      subject: gate.id,
      note: evaluation.reasons[0] ?? evaluation.decision,
      data: {
        decision: evaluation.decision,
        attempt: event.attempt,
        criteria: evaluation.criteria.map((criterion) => ({
          metric: criterion.metric,
          value: criterion.value,
          go: criterion.goHolds,
        })),
      },
    }),
  ]);
  return {
    decision: evaluation.decision,
    cautionWindowSeconds: Math.max(1, Math.round(cautionWindowMillis(gate) / 1000)),
    maxCautions: gate.maxCautions,
  };
}

/** `NotifyCaution`: marks the gate CAUTION and tells the phase's owners; the workflow then waits the window. */
export async function cautionStep(ports: GatePorts, event: GateStepEventOf<'caution'>): Promise<null> {
  const { plan } = await requirePlan(ports, event.project);
  const gate = findGate(plan, event.gate);
  const state = await updateGate(ports, event.project, gate.id, event.attempt, (current) => ({
    ...current,
    status: 'caution',
  }));
  await post(
    ports,
    plan,
    plan.integrations.slack?.channel,
    `gate:${event.execution}:caution:${event.cautions}`,
    {
      ...noticeBase(event),
      headline: `Gate ${gate.id}: CAUTION ${event.cautions + 1} of ${gate.maxCautions} — extended validation, evaluated again in ${gate.cautionWindow}`,
      lines: state?.latest?.evaluation.reasons ?? [],
      mentions: slackIds(plan, phaseOwners(plan, event.phase)),
    },
  );
  return null;
}

/**
 * `RequestDecision`: escalates to the gate's approvers, stores the task token the decision resumes,
 * and asks them to decide (again, with `reminders` > 0).
 */
export async function requestDecisionStep(
  ports: GatePorts,
  event: GateStepEventOf<'request-decision'>,
): Promise<null> {
  const { plan } = await requirePlan(ports, event.project);
  const gate = findGate(plan, event.gate);
  const exhausted = event.evaluation.decision === 'CAUTION';
  await recordGateEvents(ports, event.project, [
    {
      type: GATE_NO_GO_EVENT,
      subject: gate.id,
      at: ports.clock.now().toISOString(),
      note: `gate ${gate.id} of phase ${event.phase} is ${exhausted ? `still CAUTION after ${gate.maxCautions} extended validations` : 'NO-GO'}; an approver decides: advance or hold`,
      data: { gate: gate.id, phase: event.phase, attempt: event.attempt },
    },
  ]);
  // The gate says it waits only once the escalation to the approvers is recorded: it cannot be lost after.
  const state = await updateGate(ports, event.project, gate.id, event.attempt, (current) => ({
    ...current,
    status: 'awaiting-decision',
    pendingToken: event.taskToken,
  }));
  await post(
    ports,
    plan,
    plan.integrations.slack?.escalations ?? plan.integrations.slack?.channel,
    `gate:${event.execution}:decide:${event.reminders}`,
    {
      ...noticeBase(event),
      headline: `Gate ${gate.id}: ${exhausted ? 'CAUTIONs exhausted' : 'NO-GO'} — ${event.reminders > 0 ? `still waiting (reminder ${event.reminders})` : 'decide: accept the risk and advance, or hold'}`,
      lines: state?.latest?.evaluation.reasons ?? [],
      mentions: slackIds(plan, gate.approvers),
      decide: { attempt: event.attempt },
    },
  );
  return null;
}

/** `Advance`: the phase passes (after a GO or an approver's acceptance), its escalation resolves. */
export async function advanceStep(ports: GatePorts, event: GateStepEventOf<'advance'>): Promise<null> {
  const { plan } = await requirePlan(ports, event.project);
  const by = event.approval ? `accepted by ${event.approval.by ?? 'nobody'}` : 'GO';
  await passPhase(ports, {
    project: event.project,
    phase: event.phase,
    note: `gate ${event.gate}: ${by}${event.approval?.note ? ` (${event.approval.note})` : ''}`,
    actor: SYSTEM,
  });
  await resolveEscalation(ports, event);
  await updateGate(ports, event.project, event.gate, event.attempt, (current) => {
    const { pendingToken: _done, ...rest } = current;
    return { ...rest, status: 'passed' };
  });
  await post(ports, plan, plan.integrations.slack?.channel, `gate:${event.execution}:advance`, {
    ...noticeBase(event),
    headline: `Phase ${event.phase} passed gate ${event.gate} (${event.approval ? `risk accepted by ${event.approval.by}` : 'GO'})`,
    lines: event.approval?.note ? [event.approval.note] : [],
    mentions: slackIds(plan, phaseOwners(plan, event.phase)),
  });
  return null;
}

/** `Hold`: the phase stays blocked, by an approver's decision or because nobody decided in time. */
export async function holdStep(ports: GatePorts, event: GateStepEventOf<'hold'>): Promise<null> {
  const { plan } = await requirePlan(ports, event.project);
  await resolveEscalation(ports, event);
  await updateGate(ports, event.project, event.gate, event.attempt, (current) => {
    const { pendingToken: _done, ...rest } = current;
    return { ...rest, status: 'held' };
  });
  const by = event.approval.by;
  const at = ports.clock.now().toISOString();
  await ports.store.appendEvents(event.project, [
    auditEvent(ports, at, by ? { kind: 'person', id: by } : SYSTEM, {
      type: 'gate.held',
      subject: event.gate,
      note: by ? `held by ${by}` : 'nobody decided in time',
      data: { attempt: event.attempt, phase: event.phase },
    }),
  ]);
  await post(ports, plan, plan.integrations.slack?.channel, `gate:${event.execution}:hold`, {
    ...noticeBase(event),
    headline: `Phase ${event.phase} is held at gate ${event.gate}${by ? ` by ${by}` : ': nobody decided'}`,
    lines: event.approval.note
      ? [event.approval.note]
      : [`Evaluate gate ${event.gate} again when the evidence is in; an admin can start a new evaluation`],
    mentions: slackIds(plan, phaseOwners(plan, event.phase)),
  });
  return null;
}

/** `EscalateFailure`: a step failed after its retries; the gate is marked failed and its approvers are told. */
export async function escalateFailureStep(
  ports: GatePorts,
  event: GateStepEventOf<'escalate-failure'>,
): Promise<null> {
  const { plan } = await requirePlan(ports, event.project);
  const error = `${event.error.Error}: ${event.error.Cause}`.slice(0, 1000);
  await updateGate(ports, event.project, event.gate, event.attempt, (current) => {
    const { pendingToken: _dropped, ...rest } = current;
    return { ...rest, status: 'failed', error };
  });
  await recordGateEvents(ports, event.project, [
    {
      type: GATE_NO_GO_EVENT,
      subject: event.gate,
      at: ports.clock.now().toISOString(),
      note: `the gate workflow of ${event.gate} failed (${event.error.Error}); evaluate it again once fixed`,
      data: { gate: event.gate, phase: event.phase, attempt: event.attempt, failed: true },
    },
  ]);
  await post(
    ports,
    plan,
    plan.integrations.slack?.escalations ?? plan.integrations.slack?.channel,
    `gate:${event.execution}:failed`,
    {
      ...noticeBase(event),
      headline: `Gate ${event.gate}: the evaluation failed and needs a person`,
      lines: [error],
      mentions: slackIds(plan, findGate(plan, event.gate).approvers),
    },
  );
  return null;
}

/** The gate's NO-GO escalation is over once the phase passed or is held. */
async function resolveEscalation(ports: GatePorts, event: GateStepEvent): Promise<void> {
  await recordGateEvents(ports, event.project, [
    {
      type: GATE_RESOLVED_EVENT,
      subject: event.gate,
      at: ports.clock.now().toISOString(),
      data: { gate: event.gate },
    },
  ]);
}

/**
 * Records the gate's escalation events (`gate.no_go`, `gate.resolved`) in the audit trail with the
 * `event.recorded` the escalation rules follow, in one commit: the publisher escalates from the stream
 * even when this step stops right after (and the runtime's `follow` at once, where it has one).
 */
async function recordGateEvents(
  ports: GatePorts,
  project: string,
  events: readonly EscalationEvent[],
): Promise<void> {
  const recorded = events.map(({ at, ...fields }) => auditEvent(ports, at, SYSTEM, fields));
  const published = recorded.map((audit) => eventRecordedEvent(project, audit));
  await ports.store.commit(project, { events: recorded, published });
  await ports.follow?.(published);
}

const noticeBase = (event: GateStepEvent) => ({
  type: 'gate' as const,
  project: event.project,
  gate: event.gate,
  phase: event.phase,
});

/** Slack ids of people, for mentions. */
const slackIds = (plan: Plan, people: readonly string[]) =>
  people.flatMap((id) => {
    const slack = plan.people.find((person) => person.id === id)?.slack;
    return slack ? [slack] : [];
  });

/** The owners of the agents working in a phase: who hears that their phase passed or is held. */
const phaseOwners = (plan: Plan, phaseId: string) => {
  const phase = plan.phases.find((candidate) => candidate.id === phaseId);
  const agents = new Set(phase?.tasks.map((task) => task.agent));
  return [...new Set(plan.agents.filter((agent) => agents.has(agent.id)).map((agent) => agent.owner))];
};

/** Queues a Slack notice under a key derived from the execution, so a retried step posts it once. */
async function post(
  ports: GatePorts,
  plan: Plan,
  channel: string | undefined,
  key: string,
  notice: GateNotice,
) {
  if (!ports.outbox || !channel) return;
  await ports.outbox.enqueue(
    [
      {
        id: `slack:${plan.project.id}:${key}`,
        project: plan.project.id,
        command: { kind: 'slack', channel, key: `${plan.project.id}:${key}`, notice },
      },
    ],
    ports.clock.now(),
  );
}
