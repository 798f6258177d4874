import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePlan } from '../../functions/core/plan/index.js';
import { plannedWorkingDays, simulate } from '../../functions/local/simulate.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');
const files = readdirSync(EXAMPLES)
  .filter((name) => name.endsWith('.yaml'))
  .sort();

describe('simulating the examples', () => {
  it.each(files)(
    '%s, for twice its planned working days with the default seed, ends with every phase passed',
    async (name) => {
      // Arrange
      const file = join(EXAMPLES, name);
      const parsed = parsePlan(readFileSync(file, 'utf8'), { file });
      if (!parsed.ok) throw new Error(`${name} is invalid`);
      const days = 2 * plannedWorkingDays(parsed.plan);

      // Act
      const lines: string[] = [];
      const summary = await simulate({
        planFile: file,
        days,
        output: 'json',
        print: (line) => lines.push(line),
      });

      // Assess
      expect(summary.phases.filter((phase) => phase.status !== 'passed')).toEqual([]);
      expect(summary.tasksDone).toBe(summary.tasks);
      const document = JSON.parse(lines.join('\n')) as { days: { posts: unknown[] }[] };
      expect(document.days).toHaveLength(days);
      // Posts show whether or not the plan names a Slack channel.
      expect(document.days.flatMap((day) => day.posts).length).toBeGreaterThan(days);
    },
    // Up to 66 working days of the largest plan on a shared two-core machine.
    600_000,
  );
});
