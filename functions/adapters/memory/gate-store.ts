import type { DomainEvent } from '../../core/domain-events.js';
import { VersionConflictError } from '../../core/errors.js';
import type { GateDecision } from '../../core/gates/decision.js';
import type { GateState } from '../../core/gates/state.js';
import type { GateStore } from '../../core/ports.js';
import { MemoryEventStream } from './event-stream.js';
import { copy, partitionOf, type SortedItems, transact } from './table.js';

/** Gate state and decisions in memory, ordered as DynamoDbGateStore's partition orders them. */
export class MemoryGateStore implements GateStore {
  private readonly states = new Map<string, SortedItems<GateState>>();
  private readonly decisions = new Map<string, SortedItems<GateDecision>>();

  constructor(
    /** Where the decisions' domain events are written (the coordination store's, to share one stream). */
    private readonly stream: MemoryEventStream = new MemoryEventStream(),
  ) {}

  async getGate(project: string, gate: string): Promise<GateState | undefined> {
    const state = this.statesOf(project).get(gate);
    return state && copy(state);
  }

  /** By gate id. */
  async listGates(project: string): Promise<GateState[]> {
    return this.statesOf(project).ascending().map(copy);
  }

  async saveGate(project: string, next: GateState, expectedVersion: number): Promise<void> {
    const states = this.statesOf(project);
    const stored = states.get(next.gate);
    if (expectedVersion === 0 ? stored !== undefined : stored?.version !== expectedVersion)
      throw new VersionConflictError();
    states.set(next.gate, copy(next));
  }

  async recordGateDecision(
    project: string,
    decision: GateDecision,
    evaluation: number,
    published: readonly DomainEvent[] = [],
  ): Promise<void> {
    const key = decisionKey(decision.gate, decision.attempt, evaluation);
    transact([
      {
        item: `gate-decision\n${project}\n${key}`,
        apply: () => this.decisionsOf(project).set(key, copy(decision)),
      },
      ...published.map((event) => this.stream.put(event)),
    ]);
  }

  /** Newest first: by attempt, then evaluation. */
  async gateDecisions(project: string, gate: string, limit: number): Promise<GateDecision[]> {
    const prefix = `${gate}#`;
    return this.decisionsOf(project)
      .descending()
      .filter(({ key }) => key.startsWith(prefix))
      .slice(0, limit)
      .map(({ value }) => copy(value));
  }

  private statesOf(project: string): SortedItems<GateState> {
    return partitionOf(this.states, project);
  }

  private decisionsOf(project: string): SortedItems<GateDecision> {
    return partitionOf(this.decisions, project);
  }
}

/** As keys.ts orders decisions: the numbers padded, so they sort as numbers. */
const decisionKey = (gate: string, attempt: number, evaluation: number) =>
  `${gate}#${String(attempt).padStart(6, '0')}#${String(evaluation).padStart(3, '0')}`;
