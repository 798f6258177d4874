import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWellFormed } from '../../functions/core/unicode.js';
import { ROUTES } from '../../functions/handlers/routes.js';
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
const pathSegment = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(PROJECT, 'alpha', 'beta', 'pm', 'api', 'docs', 'build-gate', 'standup'),
  },
  {
    weight: 2,
    arbitrary: nastyString.map((text) => (isWellFormed(text) ? encodeURIComponent(text) : '%ED%A0%80')),
  },
  { weight: 1, arbitrary: fc.constantFrom('%ZZ', '%', '%E0%A4%A', '%ED%A0%80', '%00', '%2F', '.') },
);

const QUERY_NAMES = ['type', 'since', 'cursor', 'limit', 'status', 'format', 'chart', 'kept', 'task'];
const queryValue = fc.oneof(
  fc.constantFrom('1', '0', '201', '-1', '1e2', 'deploy.finished', '2026-01-05T00:00:00Z', 'json', 'latest'),
  nastyString,
  nastyNumber.map(String),
);
const query = fc
  .array(fc.tuple(fc.oneof(fc.constantFrom(...QUERY_NAMES), fc.string({ maxLength: 6 })), queryValue), {
    maxLength: 3,
  })
  .map((pairs) => (pairs.length === 0 ? '' : `?${new URLSearchParams(pairs).toString()}`));

const FIELDS = [
  'to',
  'note',
  'notes',
  'reason',
  'task',
  'completion',
  'risk',
  'name',
  'value',
  'at',
  'metrics',
  'type',
  'subject',
  'decision',
  'checklist',
  'until',
  'override',
];
const fieldValue = fc.oneof(
  fc.constantFrom('in_progress', 'done', 'blocked', 'green', 'red', 'advance', 'hold', 'tps', 'api'),
  fc.constant('2026-01-05T10:00:00Z'),
  nastyJson,
);
const objectBody = fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), nastyString), fieldValue, {
  maxKeys: 4,
});
const metricsBody = fc.record({
  metrics: fc.array(fc.record({ name: fc.oneof(fc.constant('tps'), nastyString), value: nastyNumber }), {
    maxLength: 3,
  }),
});
const body = fc.oneof(
  { weight: 4, arbitrary: objectBody.map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: metricsBody.map((value) => JSON.stringify(value)) },
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
  'agent',
  'bogus',
  'none',
);

const request = fc.record({
  route: fc.constantFrom(...ROUTES.filter((route) => route.path.startsWith('/v1/'))),
  segments: fc.array(pathSegment, { minLength: 4, maxLength: 4 }),
  query,
  body,
  token,
  idempotencyKey: fc.option(fc.oneof(fc.uuid(), nastyString), { freq: 5 }),
});

type Request = typeof request extends fc.Arbitrary<infer T> ? T : never;

async function send({ route, segments, query, body, token, idempotencyKey }: Request) {
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
  /^(body|query|path)([.[:]|$)|Idempotency-Key|plan\.(yaml|json):\d+:\d+|^metrics\[\d+\]\.at:/;

describe('every route of the agent API, fuzzed', () => {
  const parameters = fuzzParameters(250);

  it(
    'answers every request with a 2xx or a JSON 4xx that names the problem, never a 5xx or a stack trace',
    async () => {
      await fc.assert(
        fc.asyncProperty(request, async (input) => {
          const { status, type, bytes } = await send(input);
          const text = bytes.toString('utf8');
          const where = `${input.route.method} ${input.route.path} → ${status} ${text.slice(0, 300)}`;

          expect(status, where).toBeLessThan(500);
          if (status >= 400) {
            expect(type, where).toMatch(/^application\/json/);
            const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
            expect(typeof parsed.error?.code, where).toBe('string');
            expect(typeof parsed.error?.message, where).toBe('string');
            expect(leaksInternals(text), where).toBe(false);
            if (status === 400) expect(parsed.error?.message as string, where).toMatch(NAMES_A_FIELD);
          } else if (type.startsWith('application/json')) {
            // What Convoy answers is JSON a strict parser reads: no lone surrogate escapes.
            expect(text, where).not.toMatch(/\\ud[89ab][0-9a-f]{2}(?!\\ud[c-f])/i);
            JSON.parse(text);
          }
        }),
        { ...parameters, endOnFailure: true },
      );
    },
    fuzzTimeout(parameters.numRuns, 400),
  );
});
