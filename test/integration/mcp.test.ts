import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';

/** A two-phase plan: `docs` waits for `api`; phase `ship` waits for phase `build`. */
const plan = (project: string) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }, { id: lead }]
agents:
  - { id: alpha, owner: pm, backup: lead }
  - { id: beta, owner: lead }
phases:
  - id: build
    gate: build-gate
    tasks:
      - { id: api, agent: alpha, estimate: 1d, jira: PAY-1 }
      - { id: docs, agent: beta, estimate: 1d, dependsOn: [api] }
  - id: ship
    dependsOn: [build]
    tasks:
      - { id: deploy, agent: alpha, estimate: 1d }
gates:
  - id: build-gate
    criteria: [{ go: "coverage.unit >= 80" }]
    approvers: [lead]
handoff: [Code compiles without errors, All tests pass]
`;

let api: TestApi;
let counter = 0;
const clients: Client[] = [];

beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await Promise.allSettled(clients.map((client) => client.close()));
  await api.close();
});

/** A fresh project per test, so tests never see each other's state. */
async function project() {
  const id = `m-${++counter}`;
  await api.apply(plan(id));
  return {
    id,
    alpha: await api.token('agent', id, 'alpha'),
    beta: await api.token('agent', id, 'beta'),
    lead: await api.token('person', id, 'lead'),
  };
}

/** The official SDK client over real HTTP, as an MCP client configured with a bearer token connects. */
async function connect(
  token: string,
  options: { query?: string; mode?: 'legacy' | 'auto' } = {},
): Promise<Client> {
  const client = new Client(
    { name: 'convoy-test', version: '1.0.0' },
    options.mode ? { versionNegotiation: { mode: options.mode } } : {},
  );
  const transport = new StreamableHTTPClientTransport(new URL(`${api.url}/mcp${options.query ?? ''}`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  clients.push(client);
  return client;
}

type Result = Awaited<ReturnType<Client['callTool']>>;
const structured = (result: Result) => result.structuredContent as Record<string, unknown>;
const text = (result: Result) => (result.content as { type: string; text: string }[])[0]?.text ?? '';

describe('MCP server at POST /mcp', () => {
  it('lists the agent tools to an agent, and the person tools only to a person', async () => {
    // Prepare
    const p = await project();

    // Act
    const agentTools = (await (await connect(p.alpha)).listTools()).tools.map((tool) => tool.name);
    const personTools = (await (await connect(p.lead)).listTools()).tools.map((tool) => tool.name);
    const coreTools = (await (await connect(p.alpha, { query: '?tools=core' })).listTools()).tools;

    // Assess
    expect(agentTools).toEqual(
      expect.arrayContaining(['whoami', 'next_task', 'update_task', 'report_progress', 'hand_off']),
    );
    expect(agentTools).not.toContain('decide_gate');
    expect(personTools).toEqual(
      expect.arrayContaining(['ack_escalation', 'resolve_escalation', 'decide_gate']),
    );
    expect(coreTools.map((tool) => tool.name).sort()).toEqual(
      [
        'whoami',
        'next_task',
        'get_task',
        'update_task',
        'report_progress',
        'raise_blocker',
        'clear_blocker',
        'hand_off',
        'release',
      ].sort(),
    );
    const update = coreTools.find((tool) => tool.name === 'update_task');
    expect(update?.inputSchema).toMatchObject({
      type: 'object',
      properties: { task: { type: 'string' }, to: { enum: expect.arrayContaining(['done']) } },
      required: expect.arrayContaining(['task', 'to']),
    });
    expect(update?.outputSchema).toMatchObject({ type: 'object' });
  });

  it('runs an agent through its loop: whoami, progress, lifecycle, blocker, handoff', async () => {
    // Prepare
    const p = await project();
    const alpha = await connect(p.alpha);

    // Act
    const me = await alpha.callTool({ name: 'whoami', arguments: {} });
    const started = await alpha.callTool({
      name: 'update_task',
      arguments: { task: 'api', to: 'in_progress' },
    });
    const progress = await alpha.callTool({
      name: 'report_progress',
      arguments: { task: 'api', completion: 40, risk: 'green', note: 'halfway' },
    });
    const blocked = await alpha.callTool({
      name: 'raise_blocker',
      arguments: { task: 'api', reason: 'waiting for credentials' },
    });
    const cleared = await alpha.callTool({ name: 'clear_blocker', arguments: { task: 'api' } });
    const handed = await alpha.callTool({
      name: 'hand_off',
      arguments: {
        task: 'api',
        to: ['docs'],
        checklist: { 'Code compiles without errors': true, 'All tests pass': true },
        notes: 'see README',
      },
    });
    const done = await alpha.callTool({ name: 'update_task', arguments: { task: 'api', to: 'done' } });
    const status = await alpha.callTool({ name: 'plan_status', arguments: {} });

    // Assess
    expect(me.isError).toBeFalsy();
    expect(structured(me)).toMatchObject({
      actor: 'agent:alpha',
      kind: 'agent',
      project: p.id,
      agent: {
        owner: 'pm',
        leaseSeconds: 1800,
        tasks: [
          { id: 'api', phase: 'build', assigned: 'agent' },
          { id: 'deploy', phase: 'ship', assigned: 'agent' },
        ],
      },
    });
    expect(structured(started)).toMatchObject({ task: { id: 'api', status: 'in_progress' }, changed: true });
    expect(structured(progress)).toMatchObject({ agent: { id: 'alpha' } });
    expect(structured(blocked)).toMatchObject({ task: { blocked: true } });
    expect(structured(cleared)).toMatchObject({ task: { blocked: false } });
    expect(handed.isError).toBeFalsy();
    expect(structured(handed)).toMatchObject({ created: true, handoff: { task: 'api' } });
    expect(structured(done)).toMatchObject({ task: { status: 'done' } });
    expect(structured(status)).toMatchObject({ project: p.id, gates: [{ gate: 'build-gate' }] });
    // The REST API sees what the tools did: one state, whichever door changed it.
    const rest = await api.call('GET', `/v1/plans/${p.id}/status`, { token: p.alpha });
    expect(rest.body.tasks).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: 'api', status: 'done' })]),
    );
  });

  it('answers an agent acting as another agent with an error result that says what to do next', async () => {
    // Prepare
    const p = await project();
    const beta = await connect(p.beta);

    // Act
    const moved = await beta.callTool({ name: 'update_task', arguments: { task: 'api', to: 'in_progress' } });
    const reported = await beta.callTool({
      name: 'report_progress',
      arguments: { agent: 'alpha', completion: 10 },
    });
    const unknown = await beta.callTool({ name: 'get_task', arguments: { task: 'nope' } });
    const bad = await beta.callTool({ name: 'update_task', arguments: { task: 'api', to: 'finished' } });

    // Assess
    expect(moved.isError).toBe(true);
    expect(text(moved)).toMatch(/alpha/);
    expect(text(moved)).toMatch(/whoami/);
    expect(reported.isError).toBe(true);
    expect(unknown.isError).toBe(true);
    expect(bad.isError).toBe(true);
    expect(text(bad)).toMatch(/to/);
  });

  it('lets a person decide a gate and read the plan and status resources', async () => {
    // Prepare
    const p = await project();
    const lead = await connect(p.lead);

    // Act
    const resources = (await lead.listResources()).resources.map((resource) => resource.uri);
    const planResource = await lead.readResource({ uri: 'convoy://plan' });
    const statusResource = await lead.readResource({ uri: 'convoy://status' });
    const decided = await lead.callTool({
      name: 'decide_gate',
      arguments: { gate: 'build-gate', decision: 'hold', note: 'not yet' },
    });
    const ack = await lead.callTool({ name: 'ack_escalation', arguments: { id: 'no-such-escalation' } });

    // Assess
    expect(resources).toEqual(expect.arrayContaining(['convoy://plan', 'convoy://status']));
    const planJson = JSON.parse((planResource.contents[0] as { text: string }).text);
    expect(planJson.plan.project.id).toBe(p.id);
    const statusJson = JSON.parse((statusResource.contents[0] as { text: string }).text);
    expect(statusJson.project).toBe(p.id);
    // The gate was never evaluated, so nothing awaits a decision: an error result that says so.
    expect(decided.isError).toBe(true);
    expect(text(decided)).toMatch(/build-gate/);
    expect(ack.isError).toBe(true);
    expect(text(ack)).toMatch(/no-such-escalation/);
  });

  it('serves clients of the 2026-07-28 revision and of 2025-11-25 alike', async () => {
    // Prepare
    const p = await project();

    // Act
    const modern = await connect(p.alpha, { mode: 'auto' });
    const legacy = await connect(p.alpha, { mode: 'legacy' });
    const fromModern = await modern.callTool({ name: 'whoami', arguments: {} });
    const fromLegacy = await legacy.callTool({ name: 'whoami', arguments: {} });

    // Assess
    expect(modern.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(legacy.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    expect(structured(fromModern)).toMatchObject({ actor: 'agent:alpha' });
    expect(structured(fromLegacy)).toMatchObject({ actor: 'agent:alpha' });
  });

  it('answers 401 with a bearer challenge without a token, and 405 to GET', async () => {
    // Act
    const bare = await fetch(`${api.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    const forged = await fetch(`${api.url}/mcp`, {
      method: 'POST',
      headers: { authorization: 'Bearer cvy_0000000000000000_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' },
      body: '{}',
    });
    const get = await fetch(`${api.url}/mcp`, { headers: { accept: 'text/event-stream' } });
    const client = new Client({ name: 'convoy-test', version: '1.0.0' });
    const connecting = client.connect(new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`)));

    // Assess
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe('Bearer realm="convoy"');
    expect(forged.status).toBe(401);
    expect(forged.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    await expect(connecting).rejects.toThrow();
  });

  it('refuses a body over 256 KB with 413 and an admin token without a project with 400', async () => {
    // Prepare
    const p = await project();
    const huge = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'raise_blocker', arguments: { task: 'api', reason: 'x'.repeat(300 * 1024) } },
    });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

    // Act
    const tooLarge = await fetch(`${api.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${p.alpha}` },
      body: huge,
    });
    const noProject = await fetch(`${api.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${api.admin}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    const admin = await connect(api.admin, { query: `?project=${p.id}` });
    const adminTools = (await admin.listTools()).tools.map((tool) => tool.name);

    // Assess
    expect(tooLarge.status).toBe(413);
    expect(noProject.status).toBe(400);
    expect(((await noProject.json()) as { error: { message: string } }).error.message).toMatch(/project=/);
    expect(adminTools).toEqual(expect.arrayContaining(['decide_gate', 'next_task']));
  });
});

/** Two agents sharing a pool of tasks nobody is assigned, and a resource made of path globs. */
const pooled = (project: string) => `version: 1
project: { id: ${project}, timezone: UTC, start: 2026-01-05 }
people: [{ id: lead }]
agents:
  - { id: coder-a, owner: lead, lease: 20m }
  - { id: coder-b, owner: lead }
resources:
  - { id: migrations, owner: coder-a, paths: ["db/migrations/**"] }
phases:
  - id: build
    tasks:
      - { id: schema, pool: [coder-a, coder-b], estimate: 1d, deliverables: [schema.sql] }
      - { id: api, pool: [coder-a, coder-b], estimate: 2d, dependsOn: [schema] }
handoff: [All tests pass]
`;

describe('claims and leases over MCP', () => {
  it('claims the next ready task with a lease, fences writes by it, and gives it back', async () => {
    // Prepare
    const id = `pool-${++counter}`;
    await api.apply(pooled(id));
    const a = await connect(await api.token('agent', id, 'coder-a'));
    const b = await connect(await api.token('agent', id, 'coder-b'));

    // Act
    const claimed = await a.callTool({ name: 'next_task', arguments: {} });
    const lease = (structured(claimed).lease as { id: string }).id;
    const nothing = await b.callTool({ name: 'next_task', arguments: {} });
    const stale = await b.callTool({
      name: 'update_task',
      arguments: { task: 'schema', to: 'in_review', lease: 'L00000000000000000000' },
    });
    const progress = await a.callTool({
      name: 'report_progress',
      arguments: { task: 'schema', completion: 50 },
    });
    const seen = await b.callTool({ name: 'get_task', arguments: { task: 'schema' } });
    const ready = await b.callTool({ name: 'list_tasks', arguments: { ready: true } });
    const files = await a.callTool({
      name: 'lease',
      arguments: { paths: ['db/migrations/001.sql'], mode: 'exclusive', ttl: '30m', task: 'schema' },
    });
    const clash = await b.callTool({
      name: 'lease',
      arguments: { resource: 'migrations', mode: 'exclusive' },
    });
    const ended = await a.callTool({
      name: 'release',
      arguments: { lease: (structured(files).lease as { id: string }).id },
    });
    const released = await a.callTool({ name: 'release', arguments: { task: 'schema', lease } });
    const reclaimed = await b.callTool({ name: 'next_task', arguments: {} });

    // Assess
    expect(structured(claimed)).toMatchObject({
      task: { id: 'schema', status: 'in_progress', deliverables: ['schema.sql'], unblocks: ['api'] },
      lease: { id: expect.stringMatching(/^L/), expiresAt: expect.any(String) },
    });
    expect(structured(nothing)).toMatchObject({ task: null, reason: expect.stringContaining('schema') });
    expect(stale.isError).toBe(true);
    expect(text(stale)).toMatch(/coder-a/);
    expect(text(stale)).toMatch(/next_task/);
    expect(progress.isError).toBeFalsy();
    // Only the holder sees the lease id; everyone sees who holds the task.
    expect(structured(seen)).toMatchObject({ holder: 'coder-a' });
    expect((structured(seen).lease as { id?: string }).id).toBeUndefined();
    expect(structured(ready)).toEqual({ tasks: [] });
    expect(structured(files)).toMatchObject({ lease: { mode: 'exclusive', expiresAt: expect.any(String) } });
    expect(clash.isError).toBe(true);
    expect(text(clash)).toMatch(/agent:coder-a/);
    expect(structured(ended)).toMatchObject({ released: true });
    expect(structured(released)).toMatchObject({ released: true, task: { id: 'schema' } });
    expect(structured(reclaimed)).toMatchObject({
      task: { id: 'schema' },
      lease: { id: expect.any(String) },
    });
  });
});

describe('convoy mcp, the stdio bridge', () => {
  const bin = fileURLToPath(new URL('../../bin/convoy.mjs', import.meta.url));

  /** `convoy mcp` started as an MCP client starts a local server: a child process spoken to over stdio. */
  async function bridge(env: Record<string, string>, args: string[] = []): Promise<Client> {
    const client = new Client({ name: 'convoy-test', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [bin, 'mcp', ...args],
      env: { PATH: process.env.PATH ?? '', ...env },
      stderr: 'pipe',
    });
    clients.push(client);
    await client.connect(transport);
    return client;
  }

  it('forwards tools, calls and resources to the running Convoy as the token’s agent', async () => {
    // Prepare
    const p = await project();
    const alpha = await bridge({ CONVOY_URL: api.url, CONVOY_TOKEN: p.alpha });

    // Act
    const tools = (await alpha.listTools()).tools.map((tool) => tool.name);
    const me = await alpha.callTool({ name: 'whoami', arguments: {} });
    const started = await alpha.callTool({
      name: 'update_task',
      arguments: { task: 'api', to: 'in_progress' },
    });
    const refused = await alpha.callTool({
      name: 'update_task',
      arguments: { task: 'docs', to: 'in_progress' },
    });
    const status = await alpha.readResource({ uri: 'convoy://status' });

    // Assess
    expect(tools).toEqual(expect.arrayContaining(['whoami', 'next_task', 'update_task', 'hand_off']));
    expect(tools).not.toContain('decide_gate');
    expect(structured(me)).toMatchObject({ actor: 'agent:alpha', project: p.id });
    expect(structured(started)).toMatchObject({ task: { id: 'api', status: 'in_progress' } });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/beta/);
    expect(JSON.parse((status.contents[0] as { text: string }).text)).toMatchObject({ project: p.id });
  });

  it('serves only the core tools with --tools core', async () => {
    // Prepare
    const p = await project();

    // Act
    const lead = await bridge({}, ['--url', api.url, '--token', p.lead, '--tools', 'core']);
    const tools = (await lead.listTools()).tools.map((tool) => tool.name);

    // Assess
    expect(tools).toHaveLength(9);
    expect(tools).not.toContain('decide_gate');
    expect(tools).not.toContain('plan_status');
  });
});
