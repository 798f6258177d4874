import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate } from '../../functions/local/simulate.js';

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

async function run(seed: number) {
  const dir = mkdtempSync(join(tmpdir(), 'convoy-sim-'));
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, PLAN);
  const lines: string[] = [];
  const summary = await simulate({ planFile: file, days: 3, seed, print: (line) => lines.push(line) });
  return { lines, summary };
}

describe('simulate', () => {
  it('prints what Convoy posted day by day, the same for the same seed', async () => {
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
  });
});
