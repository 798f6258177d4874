import { createHash, randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { convoy } from '../support/cli.js';

const plan = (project: string, agents = ['alpha', 'beta'], people = ['pm', 'lead']) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people: [${people.map((id) => `{ id: ${id} }`).join(', ')}]
agents:
${agents.map((id) => `  - { id: ${id}, owner: ${people[0]} }`).join('\n')}
phases:
  - id: build
    tasks:
${agents.map((id) => `      - { id: task-${id}, agent: ${id}, estimate: 1d }`).join('\n')}
`;

let api: TestApi;
let counter = 0;

async function project() {
  const id = `tok-${++counter}`;
  await api.apply(plan(id));
  return { id, path: (suffix: string) => `/v1/plans/${id}${suffix}` };
}

interface Listed {
  id: string;
  role: string;
  subject?: string;
  createdAt: string;
  status: string;
}

const list = (p: { path: (s: string) => string }, token?: string) =>
  api.call<{ tokens: Listed[] }>('GET', p.path('/tokens'), token ? { token } : {});

/** What someone who can write to the table (but does not hold the token key) would put there. */
const put = (item: Record<string, unknown>) =>
  api.table.documentClient.send(new PutCommand({ TableName: api.table.tableName, Item: item }));

const idOf = (token: string) => token.split('_')[1] as string;

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
});

describe('tokens written into the table', () => {
  it('does not authenticate a token item forged straight into DynamoDB Local', async () => {
    // Prepare
    const p = await project();
    const legacy = `cvy_${randomBytes(32).toString('base64url')}`;
    const id = randomBytes(8).toString('hex');
    const forged = `cvy_${id}_${randomBytes(32).toString('base64url')}`;
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    // The old scheme: the SHA-256 of the token as the key, anyone can compute it.
    await put({
      pk: `TOKEN#${sha256(legacy)}`,
      sk: 'TOKEN',
      role: 'admin',
      createdAt: '2026-01-01T00:00:00Z',
    });
    // The new scheme's shape, with digests the attacker can compute without the key.
    await put({
      pk: `TOKEN#${id}`,
      sk: 'TOKEN',
      gsi1pk: 'TOKENS#ADMIN',
      gsi1sk: `2026-01-01T00:00:00Z#${id}`,
      id,
      role: 'admin',
      createdAt: '2026-01-01T00:00:00Z',
      verifier: sha256(forged),
      seal: sha256(`${id}admin`),
    });

    // Act
    const byLegacy = await api.call('PUT', p.path(''), {
      token: legacy,
      raw: plan(p.id),
      headers: { 'content-type': 'application/yaml' },
    });
    const byForged = await api.call('GET', p.path('/status'), { token: forged });
    const listed = await list(p);

    // Assess
    expect(byLegacy).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(byForged).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(listed.body.tokens.find((token) => token.id === id)).toMatchObject({
      role: 'admin',
      status: 'invalid',
    });
  });

  it('refuses a real token whose role or subject was changed in the table', async () => {
    // Prepare
    const p = await project();
    const agent = await api.token('agent', p.id, 'alpha');
    const person = await api.token('person', p.id, 'pm');
    const key = (token: string) => ({ pk: `TOKEN#${idOf(token)}`, sk: 'TOKEN' });
    const edit = (token: string, set: string, values: Record<string, unknown>) =>
      api.table.documentClient.send(
        new UpdateCommand({
          TableName: api.table.tableName,
          Key: key(token),
          UpdateExpression: set,
          ExpressionAttributeNames: Object.fromEntries(
            (set.match(/#\w+/g) ?? []).map((name) => [name, name.slice(1)]),
          ),
          ExpressionAttributeValues: values,
        }),
      );
    const untouched = await api.token('agent', p.id, 'beta');

    // Act (neither token has been used yet, so nothing of them is cached)
    await edit(agent, 'SET #role = :role REMOVE #subject', { ':role': 'admin' });
    await edit(person, 'SET #subject = :subject', { ':subject': 'lead' });
    const asAdmin = await api.call('PUT', p.path(''), {
      token: agent,
      raw: plan(p.id),
      headers: { 'content-type': 'application/yaml' },
    });
    const asLead = await api.call('GET', p.path('/status'), { token: person });

    // Assess
    expect((await api.call('GET', p.path('/status'), { token: untouched })).status).toBe(200);
    expect(asAdmin.status).toBe(401);
    expect(asLead.status).toBe(401);
    const stored = await api.table.documentClient.send(
      new GetCommand({ TableName: api.table.tableName, Key: key(agent) }),
    );
    expect(JSON.stringify(stored.Item)).not.toContain(agent);
  });
});

describe('listing and revoking tokens', () => {
  it('lists the tokens of a project and the admin tokens by id, never the tokens themselves', async () => {
    // Prepare
    const p = await project();
    const other = await project();
    const issued = await api.call<{ token: string; id: string }>('POST', p.path('/agents/alpha/tokens'));
    const person = await api.token('person', p.id, 'pm');
    await api.token('agent', other.id, 'alpha');

    // Act
    const listed = await list(p);
    const byAgent = await list(p, issued.body.token);

    // Assess
    expect(issued).toMatchObject({ status: 201, body: { id: idOf(issued.body.token) } });
    expect(listed.status).toBe(200);
    const mine = listed.body.tokens.filter((token) => token.role !== 'admin');
    expect(mine).toEqual([
      {
        id: issued.body.id,
        role: 'agent',
        project: p.id,
        subject: 'alpha',
        createdAt: expect.any(String),
        status: 'active',
      },
      {
        id: idOf(person),
        role: 'person',
        project: p.id,
        subject: 'pm',
        createdAt: expect.any(String),
        status: 'active',
      },
    ]);
    expect(listed.body.tokens).toContainEqual(
      expect.objectContaining({ id: idOf(api.admin), role: 'admin', status: 'active' }),
    );
    const text = JSON.stringify(listed.body);
    expect(text).not.toContain(issued.body.token);
    expect(text).not.toContain(api.admin);
    expect(byAgent.status).toBe(403);
  });

  it('revokes a token at once, records who did it, and says 404 for one it does not have', async () => {
    // Prepare
    const p = await project();
    const other = await project();
    const agent = await api.token('agent', p.id, 'alpha');
    const foreign = await api.token('agent', other.id, 'alpha');
    const before = await api.call('GET', p.path('/status'), { token: agent });

    // Act
    const byAgent = await api.call('DELETE', p.path(`/tokens/${idOf(agent)}`), { token: agent });
    const revoked = await api.call('DELETE', p.path(`/tokens/${idOf(agent)}`));
    const after = await api.call('GET', p.path('/status'), { token: agent });
    const again = await api.call('DELETE', p.path(`/tokens/${idOf(agent)}`));
    const crossProject = await api.call('DELETE', p.path(`/tokens/${idOf(foreign)}`));
    const malformed = await api.call('DELETE', p.path('/tokens/not-an-id'));
    const events = await api.call<{ events: { actor: string; subject: string; note: string }[] }>(
      'GET',
      p.path('/events?type=token.revoked'),
    );
    const listed = await list(p);

    // Assess
    expect(before.status).toBe(200);
    expect(byAgent.status).toBe(403);
    expect(revoked).toMatchObject({
      status: 200,
      body: { revoked: { id: idOf(agent), role: 'agent', subject: 'alpha' } },
    });
    expect(after).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    expect(again).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect(crossProject.status).toBe(404);
    expect(malformed).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringContaining('path.id: "not-an-id" is not a token id') } },
    });
    expect(events.body.events).toEqual([
      expect.objectContaining({ actor: 'admin', subject: 'agent:alpha', note: `token ${idOf(agent)}` }),
    ]);
    expect(listed.body.tokens.map((token) => token.id)).not.toContain(idOf(agent));
    expect((await api.call('GET', other.path('/status'), { token: foreign })).status).toBe(200);
  });
});

describe('tokens of agents and people removed from the plan (D10)', () => {
  it('stops a removed agent’s and person’s tokens for status, events and metrics, and keeps the others', async () => {
    // Prepare
    const p = await project();
    const alpha = await api.token('agent', p.id, 'alpha');
    const beta = await api.token('agent', p.id, 'beta');
    const lead = await api.token('person', p.id, 'lead');
    const calls = (token: string) =>
      Promise.all([
        api.call('GET', p.path('/status'), { token }),
        api.call('POST', p.path('/events'), { token, body: { type: 'note' } }),
        api.call('POST', p.path('/metrics'), { token, body: { name: 'coverage', value: 80 } }),
      ]);
    const before = await calls(beta);

    // Act
    await api.apply(plan(p.id, ['alpha'], ['pm']));
    const removedAgent = await calls(beta);
    const removedPerson = await calls(lead);
    const kept = await calls(alpha);
    const listed = await list(p);

    // Assess
    expect(before.map((response) => response.status)).toEqual([200, 201, 201]);
    for (const response of [...removedAgent, ...removedPerson]) {
      expect(response).toMatchObject({
        status: 401,
        body: { error: { code: 'unauthorized', message: expect.stringContaining('no longer in the plan') } },
      });
    }
    expect(kept.map((response) => response.status)).toEqual([200, 201, 201]);
    const statusOf = (token: string) => listed.body.tokens.find((entry) => entry.id === idOf(token))?.status;
    expect([statusOf(alpha), statusOf(beta), statusOf(lead)]).toEqual(['active', 'disabled', 'disabled']);
  });
});

describe('convoy tokens', () => {
  it('lists a project’s tokens by id and revokes one, which then stops working', async () => {
    // Prepare
    const p = await project();
    const agent = await api.token('agent', p.id, 'alpha');
    const beta = await api.token('agent', p.id, 'beta');
    const target = ['--url', api.url, '--project', p.id, '--token', api.admin];

    // Act
    const listed = await convoy('tokens', ...target);
    const revoked = await convoy('tokens', 'revoke', idOf(agent), ...target);
    const after = await api.call('GET', p.path('/status'), { token: agent });
    const again = await convoy('tokens', 'revoke', idOf(agent), ...target);
    const byAgent = await convoy('tokens', 'list', '--url', api.url, '--project', p.id, '--token', beta);
    const noId = await convoy('tokens', 'revoke', ...target);

    // Assess
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const lines = listed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+ROLE\s+SUBJECT\s+STATUS\s+CREATED$/);
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${idOf(agent)}\\s+agent\\s+alpha\\s+active\\s+\\d{4}-`)),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${idOf(api.admin)}\\s+admin\\s+-\\s+active`)),
    );
    expect(listed.stdout).not.toContain(agent);
    expect(revoked).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`revoked token ${idOf(agent)} (agent alpha`),
    });
    expect(after.status).toBe(401);
    expect(again).toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`404 project ${p.id} has no token ${idOf(agent)}`),
    });
    expect(byAgent).toMatchObject({ code: 1, stderr: expect.stringContaining('403') });
    expect(noId).toMatchObject({ code: 2, stderr: expect.stringContaining('name exactly one token id') });
  });
});
