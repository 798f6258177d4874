import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type SimulationOutputMode, simulate } from '../../functions/local/simulate.js';
import { tempDir } from '../support/temp.js';

const PLAN = `version: 1
project: { id: sim, name: Simulated, timezone: America/New_York, start: 2026-03-02 }
people: [{ id: pm, name: Pat Manager }]
agents:
  - { id: alpha, name: Agent Alpha, owner: pm, heartbeat: 30m, channel: "#alpha" }
  - { id: beta, name: Agent Beta, owner: pm }
phases:
  - id: build
    tasks:
      - { id: api, title: Build the API, agent: alpha, estimate: 1d }
      - { id: ui, title: Build the UI, agent: beta, estimate: 1d }
      - { id: docs, title: Write the docs, agent: beta, estimate: 0.5d, dependsOn: [api] }
gates:
  - id: build-gate
    criteria: [{ go: "coverage.unit >= 80" }]
    approvers: [pm]
integrations:
  slack: { channel: "#sim" }
`;

async function run(
  seed: number,
  options: { plan?: string; days?: number; output?: SimulationOutputMode } = {},
) {
  const dir = tempDir('convoy-sim-');
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, options.plan ?? PLAN);
  const lines: string[] = [];
  const summary = await simulate({
    planFile: file,
    days: options.days ?? 3,
    seed,
    ...(options.output ? { output: options.output } : {}),
    print: (line) => lines.push(line),
  });
  return { lines, summary };
}

/** Each run replays days of work through the whole engine: generous on a loaded two-core machine. */
const SIMULATION_TIMEOUT = 120_000;

interface Document {
  project: string;
  seed: number;
  days: {
    day: number;
    date: string;
    posts: { at: string; channel: string; kind: string; text: string; channels?: number }[];
    tasksDone: { task: string; agent: string }[];
    progress: { tasksDone: number; tasks: number; phases: Record<string, string> };
  }[];
  summary: { days: number; posts: number; tasksDone: number; tasks: number; phasesPassed: number };
  phases: { id: string; status: string }[];
}

describe('simulate', () => {
  it(
    'prints what Convoy posted day by day, the same for the same seed',
    async () => {
      // Act
      const first = await run(5);
      const again = await run(5);
      const other = await run(6);

      // Assess
      expect(again.lines).toEqual(first.lines);
      expect(other.lines).not.toEqual(first.lines);
      const days = first.lines.filter((line) => line.startsWith('── Day '));
      expect(days).toEqual([
        expect.stringContaining('Day 1 · Mon 2026-03-02'),
        expect.stringContaining('Day 2 · Tue 2026-03-03'),
        expect.stringContaining('Day 3 · Wed 2026-03-04'),
      ]);
      // The default schedules: a standup at 09:00 and a report at 17:00 every day, in the project channel.
      expect(first.lines.filter((line) => /^09:00 {2}#sim {2}/.test(line))).toHaveLength(3);
      expect(first.lines.filter((line) => /^17:00 {2}#sim {2}/.test(line))).toHaveLength(3);
      expect(first.summary.posts).toBeGreaterThan(6);
      expect(first.summary.tasksDone).toBeGreaterThan(0);
    },
    3 * SIMULATION_TIMEOUT,
  );

  it(
    'prints one line per post in the digest, a report sent to several channels once',
    async () => {
      // Act
      const { lines } = await run(5, { days: 1 });

      // Assess
      const standups = lines.filter((line) => line.includes('Standup'));
      expect(standups).toEqual([
        expect.stringMatching(/^09:00 {2}#sim {2}Standup .*\(and 1 agent channel\)$/),
      ]);
      // No post is followed by its blocks: every line is a day, a post, an action or a summary.
      expect(lines.filter((line) => /^ {7}•/.test(line))).toEqual([]);
    },
    SIMULATION_TIMEOUT,
  );

  it(
    'prints every post in full with --verbose',
    async () => {
      // Act
      const { lines } = await run(5, { days: 1, output: 'verbose' });

      // Assess: the standup of the project channel and of #alpha, each with its blocks under it.
      const standups = lines.filter((line) =>
        /^09:00 {2}\[slack #(sim|alpha)\] new message .*Standup/.test(line),
      );
      expect(standups).toHaveLength(2);
      const first = lines.indexOf(standups[0] as string);
      expect(lines[first + 1]).toMatch(/^ {7,}\S/);
    },
    SIMULATION_TIMEOUT,
  );

  it(
    'prints one JSON document with --json, and shows posts of a plan that names no Slack channel',
    async () => {
      // Arrange
      const noChannel = PLAN.replace(/integrations:\n {2}slack: \{ channel: "#sim" \}\n/, '');
      expect(noChannel).not.toContain('integrations');

      // Act
      const { lines, summary } = await run(5, { plan: noChannel, output: 'json' });

      // Assess
      const document = JSON.parse(lines.join('\n')) as Document;
      expect(document.project).toBe('sim');
      expect(document.days.map((day) => day.date)).toEqual(['2026-03-02', '2026-03-03', '2026-03-04']);
      const posts = document.days.flatMap((day) => day.posts);
      expect(
        posts.filter((post) => post.kind === 'report' && post.channel === '#sim').length,
      ).toBeGreaterThanOrEqual(6);
      expect(document.summary.posts).toBe(summary.posts);
      expect(document.summary.tasksDone).toBe(document.days.flatMap((day) => day.tasksDone).length);
      expect(document.phases).toEqual([{ id: 'build', status: expect.any(String) }]);
      expect(document.days.at(-1)?.progress.tasks).toBe(3);
    },
    SIMULATION_TIMEOUT,
  );
});
