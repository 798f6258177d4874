import { createRequire } from 'node:module';
import { sign } from '@octokit/webhooks-methods';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeOrderedIds } from '../../functions/adapters/dynamodb/coordination-store.js';
import { DynamoDbOutbox } from '../../functions/adapters/dynamodb/outbox.js';
import { recordEvent } from '../../functions/core/coordination/commands.js';
import { acquireLease } from '../../functions/core/coordination/leases.js';
import { escalateOverdue, type ReactivePorts } from '../../functions/core/escalations/hooks.js';
import { openConflicts } from '../../functions/core/integrations/conflicts.js';
import {
  type GithubDelivery,
  handleGithubDelivery,
} from '../../functions/core/integrations/github-events.js';
import type { ChangeConflictNotice, OutboxEntry } from '../../functions/core/integrations/model.js';
import { followNow } from '../../functions/core/integrations/publisher.js';
import type { PullRequestFiles } from '../../functions/core/ports.js';
import { makeGithubWorkerHandler } from '../../functions/handlers/github-worker.js';
import { lambdaContext } from '../../functions/local/http-server.js';
import { InProcessQueue } from '../../functions/local/in-process-queue.js';
import { startTestApi, type TestApi } from '../support/api.js';

const examples = createRequire(import.meta.url)('@octokit/webhooks-examples') as {
  name: string;
  examples: Record<string, unknown>[];
}[];
const example = (event: string, where: (payload: Record<string, unknown>) => boolean) => {
  const found = examples.find((group) => group.name === event)?.examples.find(where);
  if (!found) throw new Error(`no ${event} example`);
  return structuredClone(found) as Record<string, unknown> & { commits: Record<string, unknown>[] };
};
/** GitHub's example push to a branch (Codertocat/Hello-World, one commit modifying README.md). */
const PUSH = example('push', (payload) => String(payload.ref).startsWith('refs/heads/'));
/** GitHub's example pull_request synchronize (PR #2 of Codertocat/Hello-World). */
const SYNCHRONIZE = example('pull_request', (payload) => payload.action === 'synchronize');

const SECRET = 'webhook-secret-for-conflict-tests';

/**
 * Seed 003's tracks: api-agent (GitHub: Codertocat, GitHub's example sender) owns the API, db-agent
 * owns the migrations, ui-agent pushes as octo-ui; each agent has its channel. A rule resolves
 * conflicts within 2 hours, then asks the tech lead.
 */
const plan = (project: string) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }, { id: lead }]
agents:
  - { id: api-agent, owner: pm, channel: "#api", github: [Codertocat] }
  - { id: db-agent, owner: pm, channel: "#db", github: [octo-db] }
  - { id: ui-agent, owner: pm, channel: "#ui", github: [octo-ui] }
resources:
  - { id: api, owner: api-agent, paths: ["src/api/**"] }
  - { id: migrations, owner: db-agent, paths: ["db/migrations/**"] }
  - { id: ui, owner: ui-agent, paths: ["web/**"] }
phases:
  - id: build
    tasks:
      - { id: schema, agent: db-agent, estimate: 1d, touches: [migrations] }
      - { id: gateway, agent: api-agent, estimate: 1d }
escalations:
  - id: conflict-2h
    on: resource.conflict
    resolvedBy: resource.conflict_resolved
    notify: [owner]
    sla: 2h
    levels:
      - { notify: [lead], sla: 1h }
integrations:
  github: { repos: [Codertocat/Hello-World] }
  slack: { channel: "#convoy", escalations: "#escalations" }
`;

let api: TestApi;
let queue: InProcessQueue<GithubDelivery>;
let outbox: DynamoDbOutbox;
let counter = 0;
/** What the stand-in file lister answers for PR #2. */
let prFiles: string[] = [];

beforeAll(async () => {
  let githubWorker: ReturnType<typeof makeGithubWorkerHandler> | undefined;
  queue = new InProcessQueue<GithubDelivery>({
    consume: async (delivery) => {
      const event = { Records: [{ messageId: delivery.id, body: JSON.stringify(delivery) }] } as SQSEvent;
      const result = await (githubWorker as NonNullable<typeof githubWorker>)(
        event,
        lambdaContext('github-worker', delivery.id),
      );
      if (result.batchItemFailures.length > 0) throw new Error(`delivery ${delivery.id} failed`);
    },
    retryDelayMs: 10,
  });
  const pullRequestFiles: PullRequestFiles = {
    list: async () => ({ paths: prFiles, truncated: false }),
  };
  api = await startTestApi({
    deps: (ports, table) => {
      outbox = new DynamoDbOutbox(table.documentClient, table.tableName);
      return {
        ...ports,
        outbox,
        githubQueue: queue,
        pullRequestFiles,
        secrets: async () => ({ CONVOY_GITHUB_WEBHOOK_SECRET: SECRET }),
      };
    },
  });
  githubWorker = makeGithubWorkerHandler(api.deps);
});

afterAll(async () => {
  await queue.stop();
  await api.close();
});

/** A fresh project watching GitHub's example repository; other projects' plans must not see its pushes. */
async function project() {
  const id = `conflicts-${++counter}`;
  await api.apply(plan(id));
  return id;
}

/** GitHub's example push, by `login`, changing `paths` in one commit. */
function push(login: string, paths: string[], sha = `${++counter}`.padStart(40, 'a')) {
  const payload = structuredClone(PUSH);
  payload.sender = { ...(payload.sender as object), login };
  payload.pusher = { name: login, email: `${login}@example.com` };
  payload.after = sha;
  payload.head_commit = {
    ...(payload.head_commit as object),
    id: sha,
    added: [],
    removed: [],
    modified: paths,
  };
  payload.commits = [{ ...(payload.commits[0] as object), id: sha, added: [], removed: [], modified: paths }];
  return payload;
}

async function deliver(event: string, payload: unknown) {
  const body = JSON.stringify(payload);
  const response = await fetch(`${api.url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': `conflict-delivery-${++counter}`,
      'x-hub-signature-256': await sign(SECRET, body),
    },
    body,
  });
  expect(response.status).toBe(202);
  await queue.idle();
}

const conflictsIn = async (project: string) =>
  (await api.deps.store.listEvents(project, { type: 'resource.conflict', limit: 50 })).events;

/** The Slack posts of the conflict notices of a project, by channel. */
async function conflictPosts(project: string) {
  const due = await outbox.due(new Date('9999-01-01'), 1000);
  return due.filter(
    (
      entry,
    ): entry is OutboxEntry & { command: { kind: 'slack'; channel: string; notice: ChangeConflictNotice } } =>
      entry.project === project &&
      entry.command.kind === 'slack' &&
      'notice' in entry.command &&
      entry.command.notice.type === 'resource-conflict' &&
      'source' in entry.command.notice,
  );
}

const agent = (id: string) => ({ kind: 'agent', id }) as const;

describe('conflicts from GitHub deliveries', () => {
  it("raises a conflict when one agent pushes into another's exclusively leased path, and tells both and the owner", async () => {
    // Prepare: db-agent holds an exclusive lease on the migrations for its task.
    const id = await project();
    const lease = await acquireLease(api.deps, {
      project: id,
      actor: agent('db-agent'),
      resource: 'migrations',
      mode: 'exclusive',
      task: 'schema',
    });

    // Act: api-agent (Codertocat) pushes a migration and its own API code.
    await deliver('push', push('Codertocat', ['db/migrations/0002_add_index.sql', 'src/api/server.ts']));

    // Assess: one conflict on migrations, with the paths, commit, both agents and the owner.
    const [conflict, ...others] = await conflictsIn(id);
    expect(others).toEqual([]);
    expect(conflict?.subject).toBe('migrations');
    expect(conflict?.data).toMatchObject({
      source: 'push',
      resource: 'migrations',
      paths: ['db/migrations/0002_add_index.sql'],
      changedBy: 'api-agent',
      requestedBy: 'agent:api-agent',
      holder: 'agent:db-agent',
      lease: lease.id,
      task: 'schema',
      owner: 'db-agent',
      repository: 'Codertocat/Hello-World',
      commit: expect.stringMatching(/^a+\d+$/),
    });
    const posts = await conflictPosts(id);
    expect(posts.map((post) => post.command.channel).sort()).toEqual(['#api', '#db']);
    expect(posts[0]?.command.notice).toMatchObject({
      changedBy: 'api-agent',
      holder: 'db-agent',
      owner: 'db-agent',
    });
    // The domain event carries the same.
    const open = await openConflicts(api.deps, id, new Date());
    expect(open).toMatchObject([{ resource: 'migrations', changedBy: 'api-agent', other: 'db-agent' }]);
  });

  it("tells the owner too when the lease holder is not the owner, and the PR's files count like a push", async () => {
    // Prepare: ui-agent leases the migrations exclusively (db-agent owns them).
    const id = await project();
    await acquireLease(api.deps, {
      project: id,
      actor: agent('ui-agent'),
      resource: 'migrations',
      mode: 'exclusive',
    });
    prFiles = ['db/migrations/0003.sql', 'README.md'];

    // Act: GitHub's example synchronize of PR #2, by Codertocat (api-agent).
    await deliver('pull_request', SYNCHRONIZE);

    // Assess
    const [conflict] = await conflictsIn(id);
    expect(conflict?.data).toMatchObject({
      source: 'pull_request',
      pr: 2,
      changedBy: 'api-agent',
      holder: 'agent:ui-agent',
      owner: 'db-agent',
    });
    const posts = await conflictPosts(id);
    expect(posts.map((post) => post.command.channel).sort()).toEqual(['#api', '#db', '#ui']);
  });

  it('raises nothing when the owner pushes into its own resource', async () => {
    const id = await project();
    await deliver('push', push('Codertocat', ['src/api/server.ts', 'src/api/routes/users.ts']));
    expect(await conflictsIn(id)).toEqual([]);
    expect(await conflictPosts(id)).toEqual([]);
  });

  it("raises a conflict when an agent changes another's resource without a lease, but not with one", async () => {
    const id = await project();

    // Act: ui-agent pushes into the API without a lease; db-agent takes a lease on the API, then pushes.
    await deliver('push', push('octo-ui', ['src/api/cors.ts']));
    await acquireLease(api.deps, { project: id, actor: agent('db-agent'), resource: 'api', mode: 'shared' });
    await deliver('push', push('octo-db', ['src/api/db.ts']));

    // Assess: only ui-agent's push is a conflict, with the owner.
    const conflicts = await conflictsIn(id);
    expect(conflicts.map((event) => event.data)).toMatchObject([
      { source: 'push', resource: 'api', changedBy: 'ui-agent', owner: 'api-agent' },
    ]);
    expect(conflicts[0]?.data?.holder).toBeUndefined();
  });

  it('deduplicates a repeated push while the conflict is open, and raises it again once resolved', async () => {
    // Prepare
    const id = await project();
    await acquireLease(api.deps, {
      project: id,
      actor: agent('db-agent'),
      resource: 'migrations',
      mode: 'exclusive',
    });
    await deliver('push', push('Codertocat', ['db/migrations/0002.sql']));

    // Act: the same agent pushes into the same lease twice more.
    await deliver('push', push('Codertocat', ['db/migrations/0002.sql']));
    await deliver('push', push('Codertocat', ['db/migrations/0003.sql']));

    // Assess: one conflict, one post per channel.
    expect(await conflictsIn(id)).toHaveLength(1);
    expect(await conflictPosts(id)).toHaveLength(2);

    // Act: someone records it resolved; the next push into the lease is a new conflict.
    await recordEvent(api.deps, {
      project: id,
      type: 'resource.conflict_resolved',
      subject: 'migrations',
      actor: { kind: 'person', id: 'pm' },
    });
    expect(await openConflicts(api.deps, id, new Date())).toEqual([]);
    await deliver('push', push('Codertocat', ['db/migrations/0004.sql']));
    expect(await conflictsIn(id)).toHaveLength(2);
  });
});

describe('the 2-hour resolution rule', () => {
  it('opens an escalation to the owner, climbs to the lead after 2 hours, and ends with resource.conflict_resolved', async () => {
    // Prepare: a project on its own fast clock, composed as the worker is, escalations followed at once.
    const id = await project();
    const start = Date.parse('2026-01-05T10:00:00.000Z');
    let now = new Date(start);
    const ports: ReactivePorts & { outbox: DynamoDbOutbox } = {
      store: api.deps.store,
      escalations: api.deps.escalations,
      idempotency: api.deps.idempotency,
      outbox,
      clock: { now: () => now },
      ids: timeOrderedIds,
      follow: followNow(() => ports),
    };
    await acquireLease(ports, {
      project: id,
      actor: agent('db-agent'),
      resource: 'migrations',
      mode: 'exclusive',
    });
    const delivery = (payload: Record<string, unknown>): GithubDelivery => ({
      id: `fast-${++counter}`,
      event: 'push',
      payload,
    });

    // Act: the conflicting push.
    await handleGithubDelivery(ports, delivery(push('Codertocat', ['db/migrations/0009.sql'])));

    // Assess: an escalation for the migrations, about api-agent, to its owner pm.
    const [opened] = await api.deps.escalations.unresolvedEscalations(id);
    expect(opened).toMatchObject({
      rule: 'conflict-2h',
      subject: 'migrations',
      level: 1,
      agent: 'api-agent',
    });
    expect(opened?.targets).toEqual(['pm']);

    // Act: 1h59m later nothing climbs; 2h01m later the lead is asked.
    now = new Date(start + 119 * 60_000);
    await escalateOverdue(ports, id, (await api.deps.store.snapshot(id)) as never);
    expect((await api.deps.escalations.unresolvedEscalations(id))[0]?.level).toBe(1);
    now = new Date(start + 121 * 60_000);
    await escalateOverdue(ports, id, (await api.deps.store.snapshot(id)) as never);
    const climbed = (await api.deps.escalations.unresolvedEscalations(id))[0];
    expect(climbed?.level).toBe(2);
    expect(climbed?.targets).toContain('lead');

    // Act: the conflict is resolved.
    now = new Date(start + 130 * 60_000);
    await recordEvent(ports, {
      project: id,
      type: 'resource.conflict_resolved',
      subject: 'migrations',
      actor: { kind: 'person', id: 'lead' },
    });

    // Assess: no escalation open, no conflict open.
    expect(await api.deps.escalations.unresolvedEscalations(id)).toEqual([]);
    expect(await openConflicts(ports, id, now)).toEqual([]);
  });
});
