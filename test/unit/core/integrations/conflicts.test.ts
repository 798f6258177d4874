import { beforeEach, describe, expect, it } from 'vitest';
import { timeOrderedIds } from '../../../../functions/adapters/dynamodb/coordination-store.js';
import { memoryStores } from '../../../../functions/adapters/memory/index.js';
import { claimTask } from '../../../../functions/core/coordination/claims.js';
import { applyPlan, type CoordinationPorts } from '../../../../functions/core/coordination/commands.js';
import { acquireLease } from '../../../../functions/core/coordination/leases.js';
import {
  type ChangeSet,
  changingAgent,
  detectConflicts,
  MAX_CHANGED_PATHS,
  pullRequestChanges,
  pushChanges,
} from '../../../../functions/core/integrations/conflicts.js';
import { IntegrationError } from '../../../../functions/core/integrations/model.js';
import { formatPlanError, parsePlan } from '../../../../functions/core/plan/index.js';
import { validPlan } from '../../../fixtures/plans.js';

const PLAN = `version: 1
project: { id: tracks, timezone: UTC, start: 2026-03-02 }
people: [{ id: pm }]
agents:
  - { id: alpha, owner: pm, github: [Alpha-Bot] }
  - { id: beta, owner: pm }
  - { id: gamma, owner: pm }
resources:
  - { id: db, owner: gamma, paths: ["db/migrations/**"] }
  - { id: docs, owner: gamma }
phases:
  - id: build
    tasks:
      - { id: schema, agent: beta, estimate: 1d, jira: PAY-7 }
      - { id: api-auth, estimate: 1d }
      - { id: api, agent: gamma, estimate: 1d }
integrations:
  jira: { site: "https://example.atlassian.net", projects: [PAY] }
`;

let now: Date;
let ports: CoordinationPorts;
const agent = (id: string) => ({ kind: 'agent', id }) as const;

beforeEach(async () => {
  now = new Date('2026-03-02T09:00:00Z');
  const { store, outbox, idempotency } = memoryStores();
  ports = { store, outbox, idempotency, clock: { now: () => now }, ids: timeOrderedIds };
  await applyPlan(ports, { project: 'tracks', plan: validPlan(PLAN), actor: { kind: 'admin' } });
});

const change = (fields: Partial<ChangeSet>): ChangeSet => ({
  source: 'push',
  repository: 'octo/repo',
  branch: 'main',
  logins: [],
  paths: [],
  truncated: false,
  delivery: `d-${Math.random()}`,
  ...fields,
});

describe('who changed it', () => {
  const plan = () => validPlan(PLAN);

  it('is the agent with the login, whatever its case, before any branch', async () => {
    expect(await changingAgent(ports, plan(), { logins: ['alpha-bot'], branch: 'PAY-7-x' })).toBe('alpha');
  });

  it("is the agent of the task a branch names by JIRA key or by id as a word, else its claim's holder", async () => {
    expect(await changingAgent(ports, plan(), { logins: ['stranger'], branch: 'feature/PAY-7-index' })).toBe(
      'beta',
    );
    // `api-auth` is the longest id that is a word of the branch; nobody holds it yet.
    expect(await changingAgent(ports, plan(), { logins: [], branch: 'fix/api-auth-tokens' })).toBeUndefined();
    await claimTask(ports, { project: 'tracks', agent: 'alpha', task: 'api-auth', actor: agent('alpha') });
    expect(await changingAgent(ports, plan(), { logins: [], branch: 'fix/api-auth-tokens' })).toBe('alpha');
    // `api` is not a word of `apis`.
    expect(await changingAgent(ports, plan(), { logins: [], branch: 'feature/apis' })).toBeUndefined();
    expect(await changingAgent(ports, plan(), { logins: [], branch: 'feature/api' })).toBe('gamma');
  });
});

describe('what a delivery changed', () => {
  it("takes a push's added, modified and removed paths once each, at most 3,000, and no tag's", () => {
    const many = Array.from({ length: MAX_CHANGED_PATHS + 10 }, (_, i) => `src/f${i}.ts`);
    const payload = {
      ref: 'refs/heads/main',
      after: 'abc',
      sender: { login: 'alpha-bot' },
      commits: [
        { added: ['a.ts'], modified: ['b.ts', 'a.ts'], removed: ['c.ts'] },
        { added: many, modified: [], removed: [] },
      ],
    };
    const pushed = pushChanges(payload, 'octo/repo', 'd1');
    expect(pushed?.paths.slice(0, 3)).toEqual(['a.ts', 'b.ts', 'c.ts']);
    expect(pushed?.paths).toHaveLength(MAX_CHANGED_PATHS);
    expect(pushed?.truncated).toBe(true);
    expect(pushed?.commit).toBe('abc');
    expect(pushChanges({ ...payload, ref: 'refs/tags/v1' }, 'octo/repo', 'd2')).toBeUndefined();
    expect(pushChanges({ ...payload, deleted: true }, 'octo/repo', 'd3')).toBeUndefined();
  });

  it("lists a PR's files once per delivery, and leaves a PR GitHub refuses to list unchecked", async () => {
    let calls = 0;
    const lister = (result: () => Promise<{ paths: string[]; truncated: boolean } | undefined>) => ({
      ...ports,
      pullRequestFiles: {
        list: async () => {
          calls++;
          return result();
        },
      },
    });
    const payload = {
      action: 'synchronize',
      pull_request: { number: 9, head: { ref: 'x' }, user: { login: 'alpha-bot' } },
    };
    const delivery = { id: 'd1' };
    const listed = lister(async () => ({ paths: ['db/migrations/1.sql'], truncated: false }));
    const first = await pullRequestChanges(listed, payload, 'octo/repo', delivery);
    await pullRequestChanges(listed, payload, 'octo/repo', delivery);
    expect(first).toMatchObject({ source: 'pull_request', pr: 9, paths: ['db/migrations/1.sql'] });
    expect(calls).toBe(1);
    const refused = lister(async () => {
      throw new IntegrationError('HTTP 404', false);
    });
    expect(await pullRequestChanges(refused, payload, 'octo/repo', { id: 'd2' })).toBeUndefined();
    const down = lister(async () => {
      throw new IntegrationError('HTTP 502', true);
    });
    await expect(pullRequestChanges(down, payload, 'octo/repo', { id: 'd3' })).rejects.toThrow('502');
    // A closed PR, or one without a lister, is not listed.
    expect(
      await pullRequestChanges(listed, { ...payload, action: 'closed' }, 'octo/repo', { id: 'd4' }),
    ).toBeUndefined();
    expect(await pullRequestChanges(ports, payload, 'octo/repo', { id: 'd5' })).toBeUndefined();
  });
});

describe('detectConflicts', () => {
  const plan = () => validPlan(PLAN);

  it('raises a conflict for an exclusive lease on globs outside every resource, subject lease:<id>', async () => {
    const lease = await acquireLease(ports, {
      project: 'tracks',
      actor: agent('beta'),
      paths: ['src/payments/**'],
      mode: 'exclusive',
    });
    const raised = await detectConflicts(
      ports,
      plan(),
      change({ logins: ['Alpha-Bot'], paths: ['src/payments/refund.ts', 'README.md'] }),
    );
    expect(raised).toMatchObject([
      { subject: `lease:${lease.id}`, changedBy: 'alpha', other: 'beta', paths: ['src/payments/refund.ts'] },
    ]);
  });

  it('ignores a resource without paths, an expired lease, and a change nobody can be tied to', async () => {
    await acquireLease(ports, {
      project: 'tracks',
      actor: agent('beta'),
      resource: 'db',
      mode: 'exclusive',
      ttlSeconds: 60,
    });
    now = new Date(now.getTime() + 120_000);
    // Expired: only the owner (gamma) counts, and alpha holds no lease.
    const raised = await detectConflicts(
      ports,
      plan(),
      change({ logins: ['alpha-bot'], paths: ['db/migrations/1.sql', 'docs/x.md'] }),
    );
    expect(raised.map((conflict) => [conflict.subject, conflict.other, conflict.lease])).toEqual([
      ['db', 'gamma', undefined],
    ]);
    expect(
      await detectConflicts(ports, plan(), change({ logins: ['nobody'], paths: ['db/migrations/2.sql'] })),
    ).toEqual([]);
  });

  it('raises each conflict once when two deliveries race for it', async () => {
    const raced = await Promise.all(
      ['d1', 'd2', 'd3'].map((delivery) =>
        detectConflicts(
          ports,
          plan(),
          change({ logins: ['alpha-bot'], paths: ['db/migrations/1.sql'], delivery }),
        ),
      ),
    );
    expect(raced.flat()).toHaveLength(1);
    expect(
      (await ports.store.listEvents('tracks', { type: 'resource.conflict', limit: 10 })).events,
    ).toHaveLength(1);
  });
});

describe('agents[].github in the plan', () => {
  it('refuses a malformed login, more than 10, and a login two agents claim', () => {
    const result = parsePlan(
      PLAN.replace('github: [Alpha-Bot]', 'github: [Alpha-Bot, -bad-, a--b]').replace(
        '{ id: beta, owner: pm }',
        '{ id: beta, owner: pm, github: [ALPHA-BOT] }',
      ),
      { file: 'plan.yaml' },
    );
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors.map(formatPlanError).join('\n');
    expect(errors).toContain('agents[0].github[1]: invalid GitHub login "-bad-"');
    expect(errors).toContain('agents[0].github[2]: invalid GitHub login "a--b"');
    const duplicate = parsePlan(
      PLAN.replace('{ id: beta, owner: pm }', '{ id: beta, owner: pm, github: [ALPHA-BOT] }'),
      { file: 'plan.yaml' },
    );
    expect(duplicate.ok ? '' : duplicate.errors.map(formatPlanError).join('\n')).toContain(
      'agents[1].github[0]: GitHub login "ALPHA-BOT" already belongs to agent "alpha"',
    );
    const many = parsePlan(
      PLAN.replace(
        'github: [Alpha-Bot]',
        `github: [${Array.from({ length: 11 }, (_, i) => `bot${i}`).join(', ')}]`,
      ),
      { file: 'plan.yaml' },
    );
    expect(many.ok ? '' : many.errors.map(formatPlanError).join('\n')).toContain(
      'too many GitHub logins: 11, at most 10',
    );
  });
});
