import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWellFormed } from '../../functions/core/unicode.js';
import { ROUTES, type RouteSpec } from '../../functions/handlers/routes.js';
import { startTestApi, type TestApi } from '../support/api.js';
import {
  fuzzParameters,
  fuzzTimeout,
  leaksInternals,
  nastyJson,
  nastyNumber,
  nastyString,
} from '../support/fuzz.js';

/**
 * Random requests to every route of the agent API, through the local HTTP server and the real
 * handlers on DynamoDB Local, with an admin token, an agent's, a bogus one and none: never a 5xx,
 * never a stack trace, and every error is JSON that says what is wrong and, for a 400, which field.
 */

const PROJECT = 'fuzz';
const PLAN = `version: 1
project: { id: ${PROJECT}, timezone: UTC, start: 2026-01-05 }
people: [{ id: pm }]
agents: [{ id: alpha, owner: pm }, { id: beta, owner: pm }]
phases:
  - id: build
    gate: build-gate
    tasks:
      - { id: api, agent: alpha, estimate: 1d }
      - { id: docs, agent: beta, estimate: 1d, dependsOn: [api] }
      - { id: free, estimate: 1d, touches: [db] }
      - { id: pooled, pool: [alpha, beta], estimate: 1d }
resources:
  - { id: db, owner: alpha, paths: ["db/**"] }
gates:
  - id: build-gate
    criteria: [{ go: "coverage.unit >= 80" }]
    approvers: [pm]
escalations:
  - { id: slow, when: "tps < 5", notify: [pm] }
`;

let api: TestApi;
let agentToken: string;

beforeAll(async () => {
  api = await startTestApi({
    timing: { waitTimeOverrides: { '*': 10 }, retryIntervalOverrides: { '*': 5 } },
  });
  await api.apply(PLAN);
  agentToken = await api.token('agent', PROJECT, 'alpha');
}, 60_000);

afterAll(async () => {
  await api?.close();
});

/** Ids of the plan, ids of nothing, and segments that are not even valid percent-encoding. */
const nastySegment = fc.oneof(
  {
    weight: 2,
    arbitrary: nastyString.map((text) => (isWellFormed(text) ? encodeURIComponent(text) : '%ED%A0%80')),
  },
  { weight: 1, arbitrary: fc.constantFrom('%ZZ', '%', '%E0%A4%A', '%ED%A0%80', '%00', '%2F', '.') },
);

/** What each path parameter usually is (so most requests reach the use case), else anything. */
const KNOWN: Record<string, readonly string[]> = {
  project: [PROJECT],
  agent: ['alpha', 'beta'],
  person: ['pm'],
  task: ['api', 'docs', 'free', 'pooled'],
  gate: ['build-gate'],
  kind: ['standup', 'sync', 'report', 'weekly'],
  name: ['tps', 'coverage.unit'],
  id: ['slow:20260105T100000000Z:1f3a9c2e', 'L0123456789abcdef'],
};
const segmentFor = (name: string) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...(KNOWN[name] ?? ['x'])) },
    { weight: 1, arbitrary: nastySegment },
  );

const QUERY_NAMES = [
  'type',
  'since',
  'cursor',
  'limit',
  'status',
  'format',
  'chart',
  'kept',
  'task',
  'phase',
  'agent',
  'ready',
];
const queryValue = fc.oneof(
  fc.constantFrom(
    '1',
    '0',
    '201',
    '-1',
    '1e2',
    'deploy.finished',
    '2026-01-05T00:00:00Z',
    'json',
    'latest',
    'true',
    'false',
    'build',
    'alpha',
    'in_progress',
  ),
  nastyString,
  nastyNumber.map(String),
);
const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_NAMES), fc.string({ maxLength: 6 })), queryValue), {
    maxLength: 3,
  })
  .map((pairs) => (pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`));

/** A plausible value for a field, or a nasty one: the mix that reaches the store with edge cases. */
const either = <T>(plausible: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 3, arbitrary: plausible }, { weight: 1, arbitrary: nastyJson });
const text = fc.oneof(fc.string({ maxLength: 30 }), nastyString);
const time = fc.oneof(
  fc.constantFrom('2026-01-05T10:00:00Z', '2026-01-05T10:00:00.123+02:00', '2099-01-01T00:00:00Z'),
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
);
/** A lease id of the right form (never a current one: those are random) or anything. */
const lease = either(fc.constantFrom('L0123456789abcdef', 'Lzz', 'l0123'));

const metric = fc.record(
  {
    name: either(fc.constantFrom('tps', 'coverage.unit', 'x.y_z')),
    value: either(nastyNumber),
    at: either(time),
  },
  { requiredKeys: ['name', 'value'] },
);

/** The fields each route takes, by the end of its path (and method, for the blocker). */
const SHAPES: Record<string, Record<string, fc.Arbitrary<unknown>>> = {
  heartbeat: {
    task: either(fc.constantFrom('api', 'docs')),
    completion: either(nastyNumber),
    risk: either(fc.constantFrom('green', 'yellow', 'red')),
    note: either(text),
  },
  transitions: {
    to: either(fc.constantFrom('todo', 'in_progress', 'in_review', 'blocked', 'done')),
    note: either(text),
    lease,
  },
  'POST blocker': { reason: either(text), lease },
  'DELETE blocker': { note: either(text), lease },
  handoffs: {
    task: either(fc.constantFrom('api', 'docs')),
    to: either(fc.array(fc.constantFrom('api', 'docs'), { maxLength: 2 })),
    checklist: either(fc.dictionary(text, fc.boolean(), { maxKeys: 3 })),
    notes: either(text),
    override: either(fc.boolean()),
    lease,
  },
  claim: { task: either(fc.constantFrom('api', 'docs', 'free', 'pooled')) },
  release: { lease },
  'POST leases': {
    resource: either(fc.constantFrom('db', 'cache')),
    paths: either(
      fc.array(fc.constantFrom('src/**', 'src/api/*.ts', 'db/**', '../x', '/abs', 'a//b', '**'), {
        maxLength: 3,
      }),
    ),
    mode: either(fc.constantFrom('exclusive', 'shared')),
    ttl: either(fc.oneof(fc.constantFrom('30m', '2h', '1d', '2d', '10s', 'soon'), nastyNumber)),
    task: either(fc.constantFrom('api', 'free')),
  },
  metrics: {
    name: either(fc.constantFrom('tps', 'coverage.unit')),
    value: either(nastyNumber),
    at: either(time),
  },
  events: {
    type: either(fc.constantFrom('deploy.finished', 'security.critical')),
    subject: either(text),
    note: either(text),
  },
  decision: { decision: either(fc.constantFrom('advance', 'hold')), note: either(text) },
  ack: { note: either(text) },
  resolve: { note: either(text) },
  reassign: { note: either(text) },
  snooze: { until: either(time), note: either(text) },
  evaluate: {},
};

const shapeOf = (route: RouteSpec) => {
  const last = route.path.split('/').at(-1) as string;
  return SHAPES[`${route.method} ${last}`] ?? SHAPES[last] ?? {};
};

/** A body for the route: its own fields (sometimes with a stranger among them), or anything at all. */
const bodyFor = (route: RouteSpec) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc
        .tuple(
          fc.record(shapeOf(route), { requiredKeys: [] }),
          fc.option(fc.tuple(fc.oneof(fc.constantFrom('nite', 'metrics', ''), nastyString), nastyJson), {
            freq: 4,
          }),
        )
        .map(([fields, stranger]) =>
          JSON.stringify(stranger ? { ...fields, [stranger[0]]: stranger[1] } : fields),
        ),
    },
    {
      weight: route.path.endsWith('/metrics') ? 3 : 0,
      arbitrary: fc
        .record({ metrics: fc.array(metric, { maxLength: 4 }) })
        .map((value) => JSON.stringify(value)),
    },
    { weight: 1, arbitrary: nastyJson.map((value) => JSON.stringify(value) ?? 'null') },
    // JSON that JSON.stringify never writes: huge exponents, lone surrogate escapes, garbage.
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"value":1e400,"name":"tps"}',
        '{"completion":-1e400}',
        '{"note":"\\ud800"}',
        '{"\\udc00":1}',
        '{"to":"done"',
        'version: 1\nproject: {',
        '',
        '\u0000',
      ),
    },
  );

const token = fc.constantFrom<'admin' | 'agent' | 'bogus' | 'none'>(
  'admin',
  'admin',
  'admin',
  'admin',
  'agent',
  'bogus',
  'none',
);

const request = fc.constantFrom(...ROUTES.filter((route) => route.path.startsWith('/v1/'))).chain((route) =>
  fc.record({
    route: fc.constant(route),
    segments: fc.tuple(
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((match) => segmentFor(match[1] as string)),
    ),
    query,
    body: bodyFor(route),
    token,
    idempotencyKey: fc.option(fc.oneof(fc.uuid(), nastyString), { freq: 5 }),
    ifMatch: fc.option(fc.oneof(fc.constantFrom('"L0123456789abcdef"', '*', 'W/"Lx"', '""'), nastyString), {
      freq: 6,
    }),
    // The dashboard's poll of …/changes sends the ETag it has; a stale, odd or hostile one is a 200.
    ifNoneMatch: fc.option(fc.oneof(fc.constantFrom('"1.0"', '"1.1", W/"2.0"', '*', '""'), nastyString), {
      freq: 6,
    }),
  }),
);

type Request = typeof request extends fc.Arbitrary<infer T> ? T : never;

async function send({ route, segments, query, body, token, idempotencyKey, ifMatch, ifNoneMatch }: Request) {
  let i = 0;
  const path = route.path.replace(/\{\w+\}/g, () => segments[i++] as string);
  const bearer =
    token === 'admin'
      ? api.admin
      : token === 'agent'
        ? agentToken
        : token === 'bogus'
          ? 'cvy_bogus'
          : undefined;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  // fetch refuses header values it cannot send; those are not requests a client can make.
  if (idempotencyKey !== null && /^[\x20-\x7e]*$/.test(idempotencyKey))
    headers['idempotency-key'] = idempotencyKey;
  if (ifMatch !== null && /^[\x20-\x7e]*$/.test(ifMatch)) headers['if-match'] = ifMatch;
  if (ifNoneMatch !== null && /^[\x20-\x7e]*$/.test(ifNoneMatch)) headers['if-none-match'] = ifNoneMatch;
  const response = await fetch(`${api.url}${path}${query}`, {
    method: route.method,
    headers,
    ...(route.method === 'GET' ? {} : { body }),
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, type: response.headers.get('content-type') ?? '', bytes };
}

/** A 400 names what is wrong: a field of the body, query or path, a header, or a plan location. */
const NAMES_A_FIELD =
  /^(body|query|path)([.[:]|$)|Idempotency-Key|If-Match|plan\.(yaml|json):\d+:\d+|^metrics\[\d+\]\.at:/;

/** Or a use case's 400 that starts with the body field it is about (`checklist has items…`). */
const namesAField = (route: RouteSpec, message: string) =>
  NAMES_A_FIELD.test(message) ||
  Object.keys(shapeOf(route)).some((field) => new RegExp(`^${field}\\b`).test(message));

describe('every route of the agent API, fuzzed', () => {
  const parameters = fuzzParameters(250);

  it(
    'answers every request with a 2xx or a JSON 4xx that names the problem, never a 5xx or a stack trace',
    async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(request, async (input) => {
          const { status, type, bytes } = await send(input);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          const text = bytes.toString('utf8');
          const where = `${input.route.method} ${input.route.path} → ${status} ${text.slice(0, 300)}`;

          expect(status, where).toBeLessThan(500);
          if (status >= 400) {
            expect(type, where).toMatch(/^application\/json/);
            const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
            expect(typeof parsed.error?.code, where).toBe('string');
            expect(typeof parsed.error?.message, where).toBe('string');
            expect(leaksInternals(text), where).toBe(false);
            if (status === 400)
              expect(namesAField(input.route, parsed.error?.message as string), where).toBe(true);
          } else if (type.startsWith('application/json')) {
            // What Convoy answers is JSON a strict parser reads: no lone surrogate escapes.
            expect(text, where).not.toMatch(/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i);
            JSON.parse(text);
          }
        }),
        { ...parameters, endOnFailure: true },
      );
      // The requests reach the use cases, not only the schema and the token check.
      const succeeded = [...statuses].filter(([status]) => status < 300).reduce((sum, [, n]) => sum + n, 0);
      expect(succeeded, JSON.stringify([...statuses])).toBeGreaterThan(parameters.numRuns / 20);
    },
    fuzzTimeout(parameters.numRuns, 400),
  );
});
