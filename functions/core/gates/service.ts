import type { CoordinationPorts } from '../coordination/commands.js';
import { type Actor, describeActor } from '../coordination/model.js';
import { auditEvent, requirePlan } from '../coordination/records.js';
import { gateDecidedEvent } from '../domain-events.js';
import { ConflictError, ValidationError, VersionConflictError } from '../errors.js';
import type { Plan } from '../plan/index.js';
import type { GateStore } from '../ports.js';
import { formatInstant } from '../reports/dates.js';
import { assertMayDecide, type GateDecision, recordGateDecision } from './decision.js';
import { findGate, gatePhase } from './evaluate.js';
import { type GateState, RUNNING_GATE_STATUSES } from './state.js';
import { type GateStartResult, type GateWorkflow, StaleTaskTokenError } from './workflow.js';

/** What the gate use cases need besides the coordination ports. */
export interface GatePorts extends CoordinationPorts {
  readonly gates: GateStore;
  /** Step Functions deployed, the in-process runner locally; without one, gates cannot start. */
  readonly workflow?: GateWorkflow;
}

/** The decision records of an override are kept under this evaluation number of their attempt. */
const OVERRIDE_EVALUATION = 999;

function requireGatePhase(plan: Plan, gateId: string): string {
  findGate(plan, gateId);
  const phase = gatePhase(plan, gateId);
  if (!phase)
    throw new ValidationError(`gate ${gateId} is the gate of no phase, so there is nothing to pass`);
  return phase.id;
}

/**
 * Starts a new attempt at a phase's gate (the phase's last task done, the gate-review schedule, an
 * admin): unless one is already under way, the attempt number goes up by one and the workflow
 * starts under a name derived from phase and attempt, so a duplicate start is harmless. A gate that
 * passed is not evaluated again.
 */
export async function startGate(
  ports: GatePorts,
  input: {
    project: string;
    gate: string;
    /**
     * The id of the event that asks for the start (`phase.tasks_completed`), when one does: the same
     * event delivered again starts no new attempt.
     */
    trigger?: string;
  },
): Promise<{ result: GateStartResult | 'passed'; state: GateState }> {
  const { plan } = await requirePlan(ports, input.project);
  const phase = requireGatePhase(plan, input.gate);
  if (!ports.workflow) throw new Error('this runtime has no gate workflow to start');
  for (let attempt = 0; ; attempt++) {
    const current = await ports.gates.getGate(input.project, input.gate);
    if (current?.status === 'passed') return { result: 'passed', state: current };
    if (
      current &&
      input.trigger !== undefined &&
      current.trigger === input.trigger &&
      !RUNNING_GATE_STATUSES.has(current.status)
    )
      // This event started the current attempt already, and it ended: a redelivery starts nothing.
      return { result: 'already-started', state: current };
    if (current && RUNNING_GATE_STATUSES.has(current.status)) {
      // Started but never got going (the process died between the two writes): start it again under its name.
      const result = await ports.workflow.start({
        project: input.project,
        phase,
        gate: input.gate,
        attempt: current.attempt,
      });
      return { result, state: current };
    }
    const next: GateState = {
      gate: input.gate,
      phase,
      attempt: (current?.attempt ?? 0) + 1,
      status: 'evaluating',
      ...(current?.latest ? { latest: current.latest } : {}),
      ...(input.trigger !== undefined ? { trigger: input.trigger } : {}),
      updatedAt: ports.clock.now().toISOString(),
      version: (current?.version ?? 0) + 1,
    };
    try {
      await ports.gates.saveGate(input.project, next, current?.version ?? 0);
    } catch (error) {
      // Someone else started an attempt at the same moment: look again, theirs counts.
      if (error instanceof VersionConflictError && attempt < 5) continue;
      throw error;
    }
    const result = await ports.workflow.start({
      project: input.project,
      phase,
      gate: input.gate,
      attempt: next.attempt,
    });
    return { result, state: next };
  }
}

/** Every gate of the plan with its state (or none yet), for the status and `GET …/gates`. */
export async function gateOverview(ports: GatePorts, project: string) {
  const { plan } = await requirePlan(ports, project);
  const states = new Map((await ports.gates.listGates(project)).map((state) => [state.gate, state]));
  return plan.gates.map((gate) => {
    const state = states.get(gate.id);
    return {
      gate: gate.id,
      phase: gatePhase(plan, gate.id)?.id ?? null,
      approvers: gate.approvers,
      status: state?.status ?? 'not-evaluated',
      attempt: state?.attempt ?? 0,
      latest: state?.latest ?? null,
      ...(state?.error ? { error: state.error } : {}),
      updatedAt: state?.updatedAt ?? null,
    };
  });
}

export type GateOverview = Awaited<ReturnType<typeof gateOverview>>[number];

/**
 * A person's decision on a gate waiting for one (NO-GO, or CAUTIONs exhausted): only an approver or
 * the admin may decide (403 otherwise); 409 when the gate waits for nothing. The decision, with who
 * made it, is recorded and handed to the waiting workflow.
 */
export async function decideGate(
  ports: GatePorts,
  input: {
    project: string;
    gate: string;
    decision: 'advance' | 'hold';
    note?: string;
    actor: Actor;
    attempt?: number;
  },
): Promise<GateDecision> {
  const { plan } = await requirePlan(ports, input.project);
  requireGatePhase(plan, input.gate);
  assertMayDecide(plan, input.gate, input.actor);
  const state = await ports.gates.getGate(input.project, input.gate);
  if (state?.status !== 'awaiting-decision' || !state.pendingToken || !state.latest)
    throw new ConflictError(notWaiting(input.gate, state, plan.project.timezone));
  if (input.attempt !== undefined && input.attempt !== state.attempt)
    throw new ConflictError(
      `that request was for attempt ${input.attempt} of gate ${input.gate}; attempt ${state.attempt} is the one waiting`,
    );
  if (!ports.workflow) throw new Error('this runtime has no gate workflow to resume');
  const decision = recordGateDecision({
    plan,
    evaluation: state.latest.evaluation,
    attempt: state.attempt,
    now: ports.clock.now(),
    override: input.decision,
    actor: input.actor,
    ...(input.note ? { note: input.note } : {}),
  });
  try {
    await ports.workflow.complete(state.pendingToken, {
      decision: input.decision,
      by: input.actor.kind === 'person' ? input.actor.id : describeActor(input.actor),
      ...(input.note ? { note: input.note } : {}),
    });
  } catch (error) {
    if (error instanceof StaleTaskTokenError)
      throw new ConflictError(
        `gate ${input.gate} is no longer waiting for this decision (${error.reason}); evaluate it again`,
      );
    throw error;
  }
  // `gate.decided` is written with the decision; the publisher delivers it from the table's stream.
  await ports.gates.recordGateDecision(input.project, decision, OVERRIDE_EVALUATION, [
    gateDecidedEvent(input.project, decision),
  ]);
  await updateGate(ports, input.project, input.gate, state.attempt, (current) => {
    const { pendingToken: _used, ...rest } = current;
    return { ...rest, latest: decision };
  });
  await ports.store.appendEvents(input.project, [
    auditEvent(ports, decision.at, input.actor, {
      type: 'gate.decided',
      subject: input.gate,
      ...(input.note ? { note: input.note } : {}),
      data: { decision: input.decision, attempt: state.attempt, evaluated: state.latest.decision },
    }),
  ]);
  return decision;
}

/** Why a gate takes no decision now, saying what did happen (a repeated decision names the first). */
function notWaiting(gate: string, state: GateState | undefined, timeZone: string): string {
  const latest = state?.latest;
  if (latest?.override) {
    const first = `gate ${gate} was already decided: ${latest.override} by ${latest.decidedBy ?? 'an approver'} at ${formatInstant(latest.at, timeZone)}`;
    if (state?.status === 'passed') return `${first}; the phase passed`;
    if (state?.status === 'held') return `${first}; it is held until it is evaluated again`;
    return `${first}; the gate workflow is carrying it out`;
  }
  switch (state?.status) {
    case undefined:
      return `gate ${gate} has not been evaluated yet, so there is no decision to make`;
    case 'passed':
      return `gate ${gate} passed (${latest?.decision ?? 'GO'}${latest ? ` at ${formatInstant(latest.at, timeZone)}` : ''}); there is nothing to decide`;
    case 'held':
      return `gate ${gate} is held (nobody decided in time); evaluate it again to get a new decision`;
    case 'failed':
      return `gate ${gate}'s workflow failed; evaluate it again`;
    default:
      return `gate ${gate} is being evaluated (${state?.status}); it asks for a decision only after a NO-GO or its last CAUTION`;
  }
}

/** Writes the gate's state if it is still at `attempt` (an older execution's late step changes nothing). */
export async function updateGate(
  ports: GatePorts,
  project: string,
  gate: string,
  attempt: number,
  change: (current: GateState) => GateState,
): Promise<GateState | undefined> {
  for (let tries = 0; tries < 10; tries++) {
    const current = await ports.gates.getGate(project, gate);
    if (!current || current.attempt !== attempt) return undefined;
    const next = {
      ...change(current),
      updatedAt: ports.clock.now().toISOString(),
      version: current.version + 1,
    };
    try {
      await ports.gates.saveGate(project, next, current.version);
      return next;
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
    }
  }
  throw new VersionConflictError();
}

/**
 * The gate-review job: starts the gate of every active phase that is ready for it — all its tasks
 * done, or its `due` date reached (a review then says where the phase stands, NO-GO included) —
 * unless its gate passed or an attempt is under way. A held or failed gate is evaluated again.
 * Resolves to the number of gates started.
 */
export async function reviewGates(ports: GatePorts, project: string, today: string): Promise<number> {
  const snapshot = await ports.store.snapshot(project);
  if (!snapshot) return 0;
  let started = 0;
  for (const phase of snapshot.plan.plan.phases) {
    if (!phase.gate || snapshot.phases.get(phase.id)?.status !== 'active') continue;
    const done = phase.tasks.every((task) => snapshot.tasks.get(task.id)?.status === 'done');
    const due = phase.due !== undefined && phase.due <= today;
    if (!done && !due) continue;
    const { result } = await startGate(ports, { project, gate: phase.gate });
    if (result === 'started') started++;
  }
  return started;
}

/**
 * Starts again, under their names, the gate attempts a stopped runtime left under way (convoy dev
 * keeps its workflows in memory): an evaluation runs again, a decision is asked for again with a new
 * token. Resolves to the gates resumed.
 */
export async function resumeGates(ports: GatePorts, project: string): Promise<string[]> {
  const resumed: string[] = [];
  for (const state of await ports.gates.listGates(project)) {
    if (!RUNNING_GATE_STATUSES.has(state.status)) continue;
    // Its token died with the last run: until the attempt asks again, nothing waits for a decision.
    await updateGate(ports, project, state.gate, state.attempt, (current) => {
      const { pendingToken: _stale, ...rest } = current;
      return { ...rest, status: 'evaluating' };
    });
    await startGate(ports, { project, gate: state.gate });
    resumed.push(state.gate);
  }
  return resumed;
}
