import { claimTask } from '../../core/coordination/claims.js';
import {
  type CoordinationPorts,
  recordHeartbeat,
  setBlocker,
  transitionTask,
} from '../../core/coordination/commands.js';
import { EvidenceMissingError } from '../../core/coordination/evidence.js';
import type { Actor, ProjectSnapshot } from '../../core/coordination/model.js';
import { ConflictError, LeaseLostError } from '../../core/errors.js';
import { type Plan, workingMinutes } from '../../core/plan/index.js';

/**
 * The team's rounds per working day, at these local times: people answer what waits for them, agents
 * report and move their work on, the heartbeat monitor looks at them.
 */
export const ROUNDS = ['10:00', '14:30'] as const;
/** A working day split between the rounds, in minutes: the work an agent at pace 1 does per round. */
const WORK_PER_ROUND = (8 * 60) / ROUNDS.length;
const BLOCK_CHANCE = 0.03;
const CRASH_CHANCE = 0.03;
const BLOCK_REASONS = [
  'waiting for API credentials',
  'flaky integration test',
  'unclear acceptance criteria',
  'review requested from the owner',
] as const;

interface AgentState {
  readonly id: string;
  readonly pace: number;
  readonly heartbeat: boolean;
  /** The task it works on. */
  task?: string;
  /** The lease of its claim on `task`, when it claimed the task rather than the plan assigning it. */
  lease?: string;
  /** Its last task, in review until the next round. */
  review?: string;
  reviewLease?: string;
  /** Working minutes spent on the current task. */
  progress: number;
  blockedRounds: number;
  /** Rounds it stays silent (crashed): no heartbeats, no work. */
  silentRounds: number;
}

export interface AgentHooks {
  /** Called before an agent closes a task, as CI posts the metrics of a change before it is merged. */
  finishing(task: string): Promise<void>;
  done(task: string, agent: string): void;
}

/**
 * The plan's agents: each takes the next ready task of an active phase assigned to it (or one of
 * the unassigned tasks it may take, first come first served), works at a
 * seeded pace (0.8–1.3 of the estimate's speed), sends it to review when its work is done and goes
 * on with the next task in the time left; the review closes the task the round after. Each
 * heartbeats every round when it has an interval or a task, and now and then blocks for two rounds
 * or falls silent for one.
 */
export class SimulatedAgents {
  private readonly agents: AgentState[];
  private readonly estimates: Map<string, number>;
  /** Task id → the agent the plan assigns it to, if any. */
  private readonly assigned: Map<string, string | undefined>;

  constructor(
    private readonly plan: Plan,
    private readonly ports: CoordinationPorts,
    private readonly random: () => number,
    private readonly hooks: AgentHooks,
  ) {
    this.agents = plan.agents.map((agent) => ({
      id: agent.id,
      pace: 0.8 + 0.5 * random(),
      heartbeat: agent.heartbeat !== undefined,
      progress: 0,
      blockedRounds: 0,
      silentRounds: 0,
    }));
    this.estimates = new Map(
      plan.phases.flatMap((phase) => phase.tasks.map((task) => [task.id, workingMinutes(task.estimate)])),
    );
    this.assigned = new Map(plan.phases.flatMap((phase) => phase.tasks.map((task) => [task.id, task.agent])));
  }

  /**
   * The next task an agent may start: in an active phase, not started, its dependencies done, and
   * assigned to it, or unassigned with the agent in its pool (or no pool: any agent may take it).
   */
  private nextTask(
    agent: string,
    snapshot: ProjectSnapshot,
    started: ReadonlySet<string>,
  ): string | undefined {
    const status = (id: string) => snapshot.tasks.get(id)?.status ?? 'todo';
    return this.plan.phases
      .filter((phase) => snapshot.phases.get(phase.id)?.status === 'active')
      .flatMap((phase) => phase.tasks)
      .find(
        (task) =>
          (task.agent === undefined ? (task.pool?.includes(agent) ?? true) : task.agent === agent) &&
          status(task.id) === 'todo' &&
          !started.has(task.id) &&
          task.dependsOn.every((predecessor) => status(predecessor) === 'done'),
      )?.id;
  }

  /** The agent's owner moves the task to done by override, naming the evidence a simulation lacks. */
  private async override(task: string, agent: string, error: EvidenceMissingError): Promise<boolean> {
    const owner = this.plan.agents.find((candidate) => candidate.id === agent)?.owner;
    if (!owner) return false;
    const note = `simulated: no ${error.details.map((entry) => entry.evidence).join(', ')} in a simulation`;
    try {
      await transitionTask(this.ports, {
        project: this.plan.project.id,
        task,
        to: 'done',
        override: true,
        note: note.slice(0, 1000),
        actor: { kind: 'person', id: owner },
      });
      return true;
    } catch (failed) {
      if (failed instanceof ConflictError) return false;
      throw failed;
    }
  }

  /** One round of every agent, on the state at its start. */
  async round(snapshot: ProjectSnapshot): Promise<void> {
    // The heartbeats of agents that are up touch nothing but their own agent's record: they go out
    // together, as independent agents' would, and the round ends when all are stored. An agent marked
    // down comes back with its heartbeat, which writes to the trail: that one is sent in its turn.
    const heartbeats: Promise<unknown>[] = [];
    const acted = await this.act(snapshot, heartbeats).then(
      () => ({ status: 'fulfilled' }) as const,
      (reason: unknown) => ({ status: 'rejected', reason }) as const,
    );
    const failed = [acted, ...(await Promise.allSettled(heartbeats))].find(
      (result) => result.status === 'rejected',
    );
    if (failed) throw failed.reason;
  }

  private async act(snapshot: ProjectSnapshot, heartbeats: Promise<unknown>[]): Promise<void> {
    const project = this.plan.project.id;
    const started = new Set<string>();
    for (const agent of this.agents) {
      const actor: Actor = { kind: 'agent', id: agent.id };
      if (agent.silentRounds > 0) {
        agent.silentRounds--;
        continue;
      }
      if (agent.heartbeat && this.random() < CRASH_CHANCE / ROUNDS.length) {
        agent.silentRounds = 1;
        continue;
      }
      const move = async (task: string, to: 'in_progress' | 'in_review' | 'done', lease?: string) => {
        try {
          await transitionTask(this.ports, { project, task, to, actor, ...(lease ? { lease } : {}) });
          return true;
        } catch (error) {
          // No GitHub, handoffs or metrics stand behind a simulated task: its owner closes it by override,
          // and the reports list it among the unverified done claims.
          if (error instanceof EvidenceMissingError) return this.override(task, agent.id, error);
          if (error instanceof ConflictError || error instanceof LeaseLostError) return false;
          throw error;
        }
      };
      // A task the plan assigns to the agent is simply started; any other it claims, as an agent
      // does with next_task, and the claim's lease goes with its writes.
      const start = async (task: string) => {
        if (this.assigned.get(task) === agent.id) return (await move(task, 'in_progress')) ? {} : undefined;
        try {
          const claimed = await claimTask(this.ports, { project, agent: agent.id, task, actor });
          return claimed.task && claimed.lease ? { lease: claimed.lease.id } : undefined;
        } catch (error) {
          if (error instanceof ConflictError) return undefined;
          throw error;
        }
      };
      if (agent.review) {
        await this.hooks.finishing(agent.review);
        if (await move(agent.review, 'done', agent.reviewLease)) this.hooks.done(agent.review, agent.id);
        agent.review = undefined;
        agent.reviewLease = undefined;
      }
      // The round's working time, spent on one task after another; none while blocked.
      let time = WORK_PER_ROUND * agent.pace;
      if (agent.task && agent.blockedRounds > 0) {
        time = 0;
        agent.blockedRounds--;
        if (agent.blockedRounds === 0)
          await setBlocker(this.ports, {
            project,
            task: agent.task,
            reason: null,
            actor,
            ...(agent.lease ? { lease: agent.lease } : {}),
          });
      }
      while (time > 0) {
        if (!agent.task) {
          const ready = this.nextTask(agent.id, snapshot, started);
          const taken = ready ? await start(ready) : undefined;
          if (!ready || !taken) break;
          started.add(ready);
          agent.task = ready;
          agent.lease = taken.lease;
          agent.progress = 0;
        }
        const left = (this.estimates.get(agent.task) ?? 0) - agent.progress;
        if (left > time) {
          agent.progress += time;
          if (this.random() < BLOCK_CHANCE) {
            agent.blockedRounds = 2;
            const reason = BLOCK_REASONS[Math.floor(this.random() * BLOCK_REASONS.length)] as string;
            await setBlocker(this.ports, {
              project,
              task: agent.task,
              reason,
              actor,
              ...(agent.lease ? { lease: agent.lease } : {}),
            });
          }
          break;
        }
        time -= left;
        agent.progress += left;
        // One task in review at a time: the next waits for the round after.
        if (agent.review) break;
        await move(agent.task, 'in_review', agent.lease);
        agent.review = agent.task;
        agent.reviewLease = agent.lease;
        agent.task = undefined;
        agent.lease = undefined;
      }
      if (agent.heartbeat || agent.task) {
        const estimate = agent.task ? this.estimates.get(agent.task) : undefined;
        const completion = estimate
          ? Math.min(100, Math.round((100 * agent.progress) / estimate))
          : undefined;
        const heartbeat = recordHeartbeat(this.ports, {
          project,
          agent: agent.id,
          ...(agent.task ? { task: agent.task } : {}),
          ...(completion === undefined ? {} : { completion }),
          risk: agent.blockedRounds > 0 ? 'yellow' : 'green',
          actor,
        });
        if (snapshot.agents.get(agent.id)?.downSince) await heartbeat;
        else heartbeats.push(heartbeat);
      }
    }
  }
}
