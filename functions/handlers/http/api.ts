import { createHash } from 'node:crypto';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import { type Actor, describeActor } from '../../core/coordination/model.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../core/errors.js';
import { didYouMean } from '../../core/plan/suggest.js';
import type { OnceOptions, TokenRecord } from '../../core/ports.js';
import { isWellFormed } from '../../core/unicode.js';
import type { Dependencies } from '../dependencies.js';
import { authenticate } from './auth.js';
import { errorResponse, httpErrors, PayloadTooLargeError, statusOf } from './errors.js';
import { pathParams } from './schemas.js';

/** Bodies above this are refused with 413 before anything is parsed. */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * A request's body as text (API Gateway base64-encodes binary ones), refused with 413 over
 * {@link MAX_BODY_BYTES} before anything parses it.
 */
export function readBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): string {
  const body = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, 'base64').toString('utf8')
      : event.body
    : '';
  const bytes = Buffer.byteLength(body);
  if (bytes > MAX_BODY_BYTES) throw new PayloadTooLargeError(bytes, MAX_BODY_BYTES);
  return body;
}

export interface ApiRequest {
  readonly event: APIGatewayProxyEventV2;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly rawBody: string;
  readonly actor: Actor;
  readonly token: TokenRecord;
}

export interface ApiResponse {
  readonly status: number;
  /** JSON, unless `contentType` is given: then text (a string) or bytes (sent base64-encoded). */
  readonly body: unknown;
  readonly contentType?: string;
  /** Headers of the answer besides its content type (an `ETag`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface RouteDefinition {
  /** `admin`: only admin tokens; `project`: any token valid for the project in the path. */
  readonly access: 'admin' | 'project';
  readonly run: (request: ApiRequest, deps: Dependencies) => Promise<ApiResponse>;
}

/**
 * Whether an `If-None-Match` header names `etag` (quoted, as sent in `ETag`): one of its
 * comma-separated entity tags, weak (`W/"…"`) or strong, or `*`. Anything else, malformed included,
 * names nothing: the full answer is sent.
 */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined || ifNoneMatch.length > 2_000) return false;
  return ifNoneMatch
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .some((tag) => tag === '*' || tag === etag);
}

/** JSON body of a request, validated against a zod schema; 400 naming the field otherwise. */
export function jsonBody<S extends z.ZodType>(request: ApiRequest, schema: S): z.output<S> {
  let data: unknown;
  if (request.rawBody.trim() === '') data = {};
  else {
    try {
      data = JSON.parse(request.rawBody);
    } catch (error) {
      throw new ValidationError(`body: not valid JSON: ${(error as Error).message}`);
    }
  }
  return validate(schema, data, 'body');
}

/**
 * `data` checked against `schema`; otherwise a 400 whose message names every field at fault as
 * `<where>.<path>: <problem>`. Strings (values and keys) must be well-formed Unicode: a lone UTF-16
 * surrogate (`"\ud800"` in JSON) is refused, since no strict JSON parser could read it back.
 */
export function validate<S extends z.ZodType>(schema: S, data: unknown, where: string): z.output<S> {
  const malformed = illFormedStrings(data, [where]);
  if (malformed.length > 0) {
    const problems = malformed.map((problem) => `${problem}; send well-formed Unicode text`);
    throw new ValidationError(problems.join('; '), problems);
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => describeIssue(schema, data, where, [], issue));
  throw new ValidationError(problems.join('; '), problems);
}

/**
 * `body.metrics.0.name`; a key that is not a plain name is quoted (`body[""]`, `body["a b"]`), and
 * a long one cut short, so the message stays readable whatever the caller sent.
 */
function fieldPath([where, ...parts]: readonly string[]): string {
  return parts.reduce((path, part) => {
    if (/^[\w-]{1,64}$/.test(part)) return `${path}.${part}`;
    const shown = part.length > 64 ? `${part.slice(0, 64)}…` : part;
    return `${path}[${JSON.stringify(shown)}]`;
  }, where ?? '');
}

/** A problem for each string and key in `data` that is not well-formed Unicode, naming where it is. */
function illFormedStrings(data: unknown, path: string[], found: string[] = []): string[] {
  if (typeof data === 'string') {
    if (!isWellFormed(data)) found.push(`${fieldPath(path)}: contains a lone UTF-16 surrogate`);
  } else if (Array.isArray(data)) {
    data.forEach((item, index) => {
      illFormedStrings(item, [...path, String(index)], found);
    });
  } else if (data && typeof data === 'object') {
    for (const [key, value] of Object.entries(data)) {
      if (!isWellFormed(key)) found.push(`${fieldPath(path)}: a field name contains a lone UTF-16 surrogate`);
      else illFormedStrings(value, [...path, key], found);
    }
  }
  return found;
}

/**
 * One problem per field; `schema` is the part of the schema at `base`, where `issue.path` starts. A union that matched no branch (`POST /metrics`: one point or
 * `{metrics: [...]}`) reports the branch the body was meant for: the first one that has no unknown
 * field at its top level, else the first.
 */
function describeIssue(
  schema: z.ZodType,
  data: unknown,
  where: string,
  base: readonly PropertyKey[],
  issue: z.core.$ZodIssue,
): string[] {
  const full = [...base, ...issue.path];
  const path = fieldPath([where, ...full.map(String)]);
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const branches: z.core.$ZodIssue[][] = issue.errors;
    const index = Math.max(
      0,
      branches.findIndex((branch) =>
        branch.every((inner) => inner.code !== 'unrecognized_keys' || inner.path.length > 0),
      ),
    );
    const option = unionOptions(schema, issue.path)[index] ?? schema;
    return (branches[index] ?? []).flatMap((inner) => describeIssue(option, data, where, full, inner));
  }
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(schema, issue.path);
    return issue.keys.map(
      (key) =>
        `${fieldPath([path, key])}: unknown field${didYouMean(key, known) || (known.length ? ` (expected one of: ${known.join(', ')})` : '')}`,
    );
  }
  if (issue.code === 'invalid_type' && valueAt(data, full) === undefined)
    return [`${path}: required field is missing`];
  // zod's "Invalid input: expected number, received string" says no more than its second half.
  const message = issue.message.replace(/^Invalid input: /, '');
  return [`${path}: ${message.charAt(0).toLowerCase()}${message.slice(1)}`];
}

/** The branches of the union at `path` in `schema` (empty when there is none). */
function unionOptions(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType[] {
  const def = (schemaAt(schema, path) as { def?: Record<string, unknown> } | undefined)?.def;
  return def?.type === 'union' ? (def.options as z.ZodType[]) : [];
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let value = data;
  for (const part of path)
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[part] : undefined;
  return value;
}

/** The part of `schema` that validates the value at `path`, if it can be told. */
function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): unknown {
  let current: unknown = schema;
  for (const part of path) {
    const def = (current as { def?: Record<string, unknown> } | undefined)?.def;
    if (def?.type === 'object') current = (def.shape as Record<string, unknown>)[String(part)];
    else if (def?.type === 'array') current = def.element;
    else return undefined;
  }
  return current;
}

function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const def = (schemaAt(schema, path) as { def?: Record<string, unknown> } | undefined)?.def;
  return def?.type === 'object' ? Object.keys(def.shape as object) : [];
}

const json = (response: ApiResponse, replayed = false): APIGatewayProxyStructuredResultV2 =>
  response.status === 304
    ? { statusCode: 304, headers: { 'cache-control': 'no-cache', ...response.headers } }
    : response.contentType
      ? raw(response)
      : {
          statusCode: response.status,
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'cache-control': 'no-store',
            ...(replayed ? { 'idempotent-replayed': 'true' } : {}),
            ...response.headers,
          },
          body: JSON.stringify(response.body),
        };

/** A Markdown report or a PNG chart: bytes travel base64-encoded through API Gateway. */
function raw(response: ApiResponse): APIGatewayProxyStructuredResultV2 {
  const bytes = response.body instanceof Uint8Array;
  return {
    statusCode: response.status,
    headers: { 'content-type': response.contentType as string, 'cache-control': 'no-store' },
    body: bytes ? Buffer.from(response.body as Uint8Array).toString('base64') : String(response.body),
    isBase64Encoded: bytes,
  };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A first delivery holds its key for a minute while it runs; its outcome is kept for a day. */
const ONCE: OnceOptions = { scope: 'api', holdSeconds: 60, keepSeconds: 24 * 60 * 60 };

/**
 * Runs a state-changing request at most once per `Idempotency-Key` (per caller, route and path):
 * a retry with the same key and body gets the first response again, marked `idempotent-replayed`;
 * a retry while the first runs gets 409, one with another body 422 (the error map).
 */
async function once(
  key: string,
  request: ApiRequest,
  deps: Dependencies,
  run: () => Promise<ApiResponse>,
): Promise<{ response: ApiResponse; replayed: boolean }> {
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new ValidationError(
      'Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)',
    );
  }
  const scope = [describeActor(request.actor), request.event.routeKey, request.event.rawPath, key].join('\n');
  // A 4xx outcome is final and kept; a 5xx one is thrown, which keeps nothing: a retry runs again.
  const { outcome, replayed } = await deps.once.run(ONCE, scope, sha256(request.rawBody), () =>
    run().catch((error: unknown) => {
      if (statusOf(error) >= 500) throw error;
      return errorResponse(error, () => undefined);
    }),
  );
  return { response: outcome, replayed };
}

/**
 * A Lambda handler for a set of routes (keyed by API Gateway route key). Middy lower-cases the
 * headers; the handler refuses a body over the limit, authenticates, runs the route, and the error
 * step maps what it throws. The same function serves API Gateway and `convoy dev`.
 */
export function apiHandler(
  routes: Readonly<Record<string, RouteDefinition>>,
  deps: () => Dependencies,
  log: (message: string, error: unknown) => void,
) {
  return middy(async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const route = routes[event.routeKey];
    if (!route) throw new NotFoundError(`no route ${event.routeKey}`);
    const rawBody = readBody(event);
    const headers = event.headers ?? {};
    const dependencies = deps();
    const { actor, record } = await authenticate(headers.authorization, dependencies);
    const params = validate(pathParams, event.pathParameters ?? {}, 'path') as Record<string, string>;
    if (route.access === 'admin' && actor.kind !== 'admin')
      throw new ForbiddenError('this route needs an admin token');
    if (record.role !== 'admin' && params.project !== undefined && record.project !== params.project) {
      throw new ForbiddenError(`this token belongs to project ${record.project}, not ${params.project}`);
    }
    const query = (event.queryStringParameters ?? {}) as Record<string, string>;
    const request: ApiRequest = { event, params, query, rawBody, actor, token: record };
    const key = headers['idempotency-key'];
    if (key !== undefined && event.requestContext.http.method !== 'GET') {
      const { response, replayed } = await once(key, request, dependencies, () =>
        route.run(request, dependencies),
      );
      return json(response, replayed);
    }
    return json(await route.run(request, dependencies));
  })
    .use(httpHeaderNormalizer())
    .use(httpErrors(log));
}
