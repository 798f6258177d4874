import {
  type CoordinationPorts,
  recordHeartbeat,
  setBlocker,
  transitionTask,
} from '../../core/coordination/commands.js';
import type { Actor, ProjectSnapshot } from '../../core/coordination/model.js';
import { ConflictError } from '../../core/errors.js';
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
  task?: string;
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
 * The plan's agents: each takes the next ready task of an active phase assigned to it, works at a
 * seeded pace (0.8–1.3 of the estimate's speed), sends it to review and closes it the round after,
 * heartbeats every round when it has an interval or a task, and now and then blocks for two rounds
 * or falls silent for one.
 */
export class SimulatedAgents {
  private readonly agents: AgentState[];
  private readonly estimates: Map<string, number>;

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
  }

  /** One round of every agent. */
  async round(snapshot: ProjectSnapshot): Promise<void> {
    const project = this.plan.project.id;
    const status = (id: string) => snapshot.tasks.get(id)?.status ?? 'todo';
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
      const move = async (task: string, to: 'in_progress' | 'in_review' | 'done') => {
        try {
          await transitionTask(this.ports, { project, task, to, actor });
          return true;
        } catch (error) {
          if (error instanceof ConflictError) return false;
          throw error;
        }
      };
      if (agent.task && agent.blockedRounds > 0) {
        agent.blockedRounds--;
        if (agent.blockedRounds === 0)
          await setBlocker(this.ports, { project, task: agent.task, reason: null, actor });
      } else if (agent.task && status(agent.task) === 'in_review') {
        await this.hooks.finishing(agent.task);
        if (await move(agent.task, 'done')) this.hooks.done(agent.task, agent.id);
        agent.task = undefined;
      } else if (agent.task) {
        agent.progress += WORK_PER_ROUND * agent.pace;
        if (agent.progress >= (this.estimates.get(agent.task) ?? 0)) await move(agent.task, 'in_review');
        else if (this.random() < BLOCK_CHANCE) {
          agent.blockedRounds = 2;
          const reason = BLOCK_REASONS[Math.floor(this.random() * BLOCK_REASONS.length)] as string;
          await setBlocker(this.ports, { project, task: agent.task, reason, actor });
        }
      }
      if (!agent.task) {
        const ready = this.plan.phases
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
      if (agent.heartbeat || agent.task) {
        const estimate = agent.task ? this.estimates.get(agent.task) : undefined;
        const completion = estimate
          ? Math.min(100, Math.round((100 * agent.progress) / estimate))
          : undefined;
        await recordHeartbeat(this.ports, {
          project,
          agent: agent.id,
          ...(agent.task ? { task: agent.task } : {}),
          ...(completion === undefined ? {} : { completion }),
          risk: agent.blockedRounds > 0 ? 'yellow' : 'green',
          actor,
        });
      }
    }
  }
}
