import { describe, expect, it } from 'vitest';
import {
  checkEvidence,
  requiredEvidence,
  tasksNamedBy,
  unverifiedDone,
  withCheck,
  withPullRequest,
} from '../../../../functions/core/coordination/evidence.js';
import type { TaskState } from '../../../../functions/core/coordination/model.js';
import { type Plan, parsePlan } from '../../../../functions/core/plan/index.js';

const yaml = (extra = '') => `version: 1
project: { id: p, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }]
agents: [{ id: a, owner: pm }]
handoff: [tests pass]
definitionOfDone: [pr-merged, checks-passed]
phases:
  - id: one
    tasks:
      - { id: api, agent: a, estimate: 1d, jira: PAY-1 }
      - { id: cover, agent: a, estimate: 1d, evidence: ["coverage.unit >= 80", handoff] }
      - { id: free, agent: a, estimate: 1d, evidence: [] }
${extra}`;

function plan(text = yaml()): Plan {
  const parsed = parsePlan(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  return parsed.plan;
}
const task = (p: Plan, id: string) =>
  p.phases[0]?.tasks.find((candidate) => candidate.id === id) as Plan['phases'][number]['tasks'][number];
const state = (fields: Partial<TaskState> = {}): TaskState => ({
  id: 'api',
  status: 'in_review',
  blocked: false,
  updatedAt: '2026-01-05T10:00:00Z',
  updatedBy: 'agent:a',
  version: 3,
  ...fields,
});
const SHA = 'ec26c3e57ca3a959ca5aad62de7213c562f8c821';

describe('evidence for done', () => {
  it('takes a task’s own evidence over the plan’s definitionOfDone, and [] as none', () => {
    const p = plan();
    expect(requiredEvidence(p, task(p, 'api'))).toEqual(['pr-merged', 'checks-passed']);
    expect(requiredEvidence(p, task(p, 'cover'))).toEqual(['coverage.unit >= 80', 'handoff']);
    expect(requiredEvidence(p, task(p, 'free'))).toEqual([]);
  });

  it('refuses a plan with an unknown, repeated or too many evidence entries, naming the field', () => {
    const bad = (evidence: string) => parsePlan(yaml().replace('evidence: []', `evidence: ${evidence}`));
    expect(bad('[merged]')).toMatchObject({
      ok: false,
      errors: [{ message: expect.stringContaining('invalid evidence "merged"') }],
    });
    expect(bad('[handoff, handoff]')).toMatchObject({
      ok: false,
      errors: [{ message: expect.stringContaining('listed twice') }],
    });
    expect(bad(`[${Array.from({ length: 11 }, (_, i) => `"m${i} > 1"`).join(', ')}]`)).toMatchObject({
      ok: false,
    });
  });

  it('says what is missing and where it would come from, then what holds', () => {
    const p = plan();
    const required = requiredEvidence(p, task(p, 'api'));
    const none = checkEvidence(required, { plan: p, task: task(p, 'api'), state: state() });
    const open = withPullRequest(state(), { repo: 'o/r', number: 42, headSha: SHA, merged: false }, 'now');
    const red = withCheck(state({ pullRequests: open }), { sha: SHA, name: 'CI', conclusion: 'failure' });
    const merged = withPullRequest(
      state({ pullRequests: red }),
      { repo: 'o/r', number: 42, headSha: SHA, merged: true },
      'later',
    );
    const green = withCheck(state({ pullRequests: merged }), { sha: SHA, name: 'CI', conclusion: 'success' });

    expect(none.missing).toEqual([
      expect.objectContaining({
        evidence: 'pr-merged',
        missing: 'no merged pull request names task api',
        source: expect.stringContaining('PAY-1'),
      }),
      expect.objectContaining({ evidence: 'checks-passed' }),
    ]);
    expect(
      checkEvidence(required, { plan: p, task: task(p, 'api'), state: state({ pullRequests: merged }) })
        .missing,
    ).toEqual([
      expect.objectContaining({
        evidence: 'checks-passed',
        missing: 'CI did not pass on ec26c3e: CI failure',
      }),
    ]);
    expect(
      checkEvidence(required, { plan: p, task: task(p, 'api'), state: state({ pullRequests: green }) }),
    ).toEqual({
      items: ['PR #42 merged', 'CI green on ec26c3e'],
      missing: [],
    });
  });

  it('starts the checks over when the PR’s head moves, and keeps at most 5 PRs', () => {
    const first = withPullRequest(
      state(),
      { repo: 'o/r', number: 1, headSha: 'a'.repeat(40), merged: false },
      't',
    );
    const checked = withCheck(state({ pullRequests: first }), {
      sha: 'a'.repeat(40),
      name: 'CI',
      conclusion: 'success',
    });
    const moved = withPullRequest(
      state({ pullRequests: checked }),
      { repo: 'o/r', number: 1, headSha: 'b'.repeat(40), merged: false },
      't',
    );
    let prs = moved;
    for (let n = 2; n <= 8; n++)
      prs = withPullRequest(
        state({ pullRequests: prs }),
        { repo: 'o/r', number: n, headSha: 'c', merged: false },
        't',
      );

    expect(checked?.[0]?.checks).toEqual({ CI: 'success' });
    expect(moved?.[0]?.checks).toBeUndefined();
    expect(prs?.map((pr) => pr.number)).toEqual([4, 5, 6, 7, 8]);
    expect(
      withPullRequest(
        state({ pullRequests: moved }),
        { repo: 'o/r', number: 1, headSha: 'b'.repeat(40), merged: false },
        't',
      ),
    ).toBeUndefined();
  });

  it('judges a metric condition and a confirmed handoff', () => {
    const p = plan();
    const required = requiredEvidence(p, task(p, 'cover'));
    const metrics = (value: number) =>
      new Map([['coverage.unit', { name: 'coverage.unit', value, at: 'now' }]]);
    const handoffs = [
      { id: 'h-1', task: 'cover', to: [], checklist: { 'tests pass': true }, at: 'now', by: 'agent:a' },
    ];

    expect(
      checkEvidence(required, {
        plan: p,
        task: task(p, 'cover'),
        state: state(),
        metrics: metrics(79.5),
      }).missing.map((m) => m.missing),
    ).toEqual([
      'coverage.unit is 79.5, needs ≥ 80',
      'no handoff of task cover with every checklist item confirmed',
    ]);
    expect(
      checkEvidence(required, {
        plan: p,
        task: task(p, 'cover'),
        state: state(),
        metrics: metrics(84),
        handoffs,
      }).items,
    ).toEqual(['coverage.unit 84 ≥ 80', 'handoff h-1 confirmed']);
  });

  it('names the tasks a PR names by JIRA key or by id as a whole word', () => {
    const p = plan();
    expect(tasksNamedBy(p, ['PAY-1'], 'Fix things')).toEqual(['api']);
    expect(tasksNamedBy(p, [], 'feature/cover: more tests')).toEqual(['cover']);
    expect(tasksNamedBy(p, [], 'recover the freedom')).toEqual([]);
  });

  it('lists a done task as unverified when overridden or done before evidence was asked for', () => {
    const p = plan();
    const override = { by: 'override' as const, actor: 'person:pm', note: 'hotfix', missing: [], at: 'now' };
    expect(unverifiedDone(p, task(p, 'api'), state({ status: 'done', verification: override }))?.reason).toBe(
      'overridden by person:pm: hotfix',
    );
    expect(unverifiedDone(p, task(p, 'api'), state({ status: 'done' }))?.reason).toContain(
      'before its evidence was asked for',
    );
    expect(unverifiedDone(p, task(p, 'free'), state({ status: 'done' }))).toBeUndefined();
    expect(
      unverifiedDone(
        p,
        task(p, 'api'),
        state({ status: 'done', verification: { by: 'evidence', items: [], at: 'now' } }),
      ),
    ).toBeUndefined();
  });
});
