import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/**
 * A local JIRA Cloud for tests: every request is checked against Atlassian's OpenAPI description of
 * the platform REST API v3 (the contract), and the few operations Convoy uses act on a small
 * in-memory JIRA (projects, issues, a workflow, remote links, comments, worklogs, labels and a JQL
 * search over them). It records every request, checks basic auth, and injects faults (429 storms,
 * 5xx, dropped connections, lost answers, slow answers).
 */

/** The part of Atlassian's spec Convoy calls, kept in the repository (scripts/refresh-jira-spec.mjs). */
const DEFAULT_SPEC_PATH = fileURLToPath(
  new URL('../fixtures/jira/jira-platform-v3.openapi.json', import.meta.url),
);

type Json = Record<string, unknown>;
type Method = 'get' | 'put' | 'post' | 'delete';

/* ---------------------------------------------------------------------------------------------- */
/* The spec: path matching and validation                                                          */
/* ---------------------------------------------------------------------------------------------- */

interface OpenApiParameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required?: boolean;
  readonly schema?: Json;
}

interface OpenApiOperation {
  readonly operationId: string;
  readonly parameters?: readonly OpenApiParameter[];
  readonly requestBody?: {
    readonly required?: boolean;
    readonly content?: Record<string, { schema?: Json }>;
  };
  readonly responses: Record<string, { readonly content?: Record<string, { schema?: Json }> }>;
}

interface OpenApiDocument {
  readonly paths: Record<string, Partial<Record<Method, OpenApiOperation>>>;
  readonly components: { readonly schemas: Record<string, Json> };
}

/**
 * Operations Atlassian published after the stored spec was taken, described as Atlassian's current
 * spec describes them, so requests to them are checked like any other. JIRA Cloud removed
 * `/rest/api/3/search` in favour of `/rest/api/3/search/jql` (changelog CHANGE-2046), which jira.js
 * calls `searchForIssuesUsingJqlEnhancedSearchPost`. The stored spec's own definitions win.
 */
const SUPPLEMENT = {
  paths: {
    '/rest/api/3/search/jql': {
      post: {
        operationId: 'searchAndReconsileIssuesUsingJqlPost',
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { $ref: '#/components/schemas/SearchAndReconcileRequestBean' } },
          },
        },
        responses: {
          '200': {
            content: {
              'application/json': { schema: { $ref: '#/components/schemas/SearchAndReconcileResults' } },
            },
          },
          '400': {
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorCollection' } } },
          },
          '401': {},
        },
      },
    },
  },
  schemas: {
    SearchAndReconcileRequestBean: {
      type: 'object',
      additionalProperties: false,
      properties: {
        expand: { type: 'string' },
        fields: { type: 'array', items: { type: 'string' } },
        fieldsByKeys: { type: 'boolean' },
        jql: { type: 'string' },
        maxResults: { type: 'integer', format: 'int32', default: 50 },
        nextPageToken: { type: 'string' },
        properties: { type: 'array', maxItems: 5, items: { type: 'string' } },
        reconcileIssues: { type: 'array', maxItems: 50, items: { type: 'integer', format: 'int64' } },
      },
    },
    SearchAndReconcileResults: {
      type: 'object',
      additionalProperties: false,
      properties: {
        isLast: { type: 'boolean', readOnly: true },
        issues: { type: 'array', readOnly: true, items: { $ref: '#/components/schemas/IssueBean' } },
        names: { type: 'object', readOnly: true, additionalProperties: { type: 'string' } },
        nextPageToken: { type: 'string', readOnly: true },
        schema: {
          type: 'object',
          readOnly: true,
          additionalProperties: { $ref: '#/components/schemas/JsonTypeBean' },
        },
      },
    },
  },
} as const;

/** The stored spec plus the supplement's paths and schemas it does not have. */
function withSupplement(document: OpenApiDocument): OpenApiDocument {
  return {
    ...document,
    paths: { ...(SUPPLEMENT.paths as unknown as OpenApiDocument['paths']), ...document.paths },
    components: {
      ...document.components,
      schemas: { ...(SUPPLEMENT.schemas as unknown as Record<string, Json>), ...document.components.schemas },
    },
  };
}

/** An operation of the spec that a request matched. */
export interface MatchedOperation {
  readonly operationId: string;
  readonly method: Method;
  /** The path template, e.g. `/rest/api/3/issue/{issueIdOrKey}/transitions`. */
  readonly template: string;
  readonly pathParams: Record<string, string>;
  readonly operation: OpenApiOperation;
}

export type RouteResult =
  | { readonly kind: 'matched'; readonly match: MatchedOperation }
  | { readonly kind: 'no-path' }
  | { readonly kind: 'no-method'; readonly template: string; readonly methods: readonly string[] };

interface CompiledPath {
  readonly template: string;
  readonly segments: readonly ({ literal: string } | { param: string })[];
  readonly literals: number;
}

/** Keywords of OpenAPI 3.0 schemas that JSON Schema does not have (or that ajv must not see). */
const OPENAPI_ONLY = new Set(['nullable', 'discriminator', 'xml', 'example', 'externalDocs', 'deprecated']);
/** Keywords whose values are data, not schemas: copied as they are. */
const LITERAL_VALUES = new Set(['enum', 'default', 'const', 'required']);
/** The `$id` under which the spec's component schemas are registered with ajv. */
const SPEC_ID = 'jira-spec';

/**
 * Converts an OpenAPI 3.0 schema to JSON Schema (draft-07, as ajv reads it): `nullable` becomes a
 * `null` type, OpenAPI-only keywords go, refs point into the registered components, and properties
 * that only one direction carries (readOnly: responses; writeOnly: requests) stop being required in
 * the other.
 */
function toJsonSchema(node: unknown, direction: 'request' | 'response'): unknown {
  if (Array.isArray(node)) return node.map((item) => toJsonSchema(item, direction));
  if (node === null || typeof node !== 'object') return node;
  const source = node as Json;
  const out: Json = {};
  for (const [key, value] of Object.entries(source)) {
    if (OPENAPI_ONLY.has(key) || key.startsWith('x-')) continue;
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.startsWith('#/') ? `${SPEC_ID}${value}` : value;
    } else if (key === 'properties' && value !== null && typeof value === 'object') {
      out.properties = Object.fromEntries(
        Object.entries(value as Json).map(([name, schema]) => [name, toJsonSchema(schema, direction)]),
      );
    } else if (LITERAL_VALUES.has(key)) {
      out[key] = value;
    } else {
      out[key] = toJsonSchema(value, direction);
    }
  }
  const oneWay = direction === 'request' ? 'readOnly' : 'writeOnly';
  if (Array.isArray(out.required) && source.properties !== null && typeof source.properties === 'object') {
    const properties = source.properties as Record<string, Json | undefined>;
    out.required = (out.required as string[]).filter((name) => properties[name]?.[oneWay] !== true);
  }
  if (source.nullable === true) {
    if (typeof out.type === 'string') {
      out.type = [out.type, 'null'];
      if (Array.isArray(out.enum)) out.enum = [...out.enum, null];
    } else {
      return { anyOf: [{ type: 'null' }, out] };
    }
  }
  return out;
}

const INT32 = 2 ** 31;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * The formats the spec uses. Date-times also accept JIRA's own `+0000` offsets (the spec's examples
 * use them, and JIRA requires them for a worklog's `started`). Formats not listed here are accepted.
 */
const FORMATS = {
  int32: { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -INT32 && n < INT32 },
  int64: { type: 'number', validate: (n: number) => Number.isInteger(n) },
  double: { type: 'number', validate: (n: number) => Number.isFinite(n) },
  float: { type: 'number', validate: (n: number) => Number.isFinite(n) },
  'date-time': (s: string) => DATE_TIME.test(s) && !Number.isNaN(Date.parse(normaliseOffset(s))),
  date: (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  uri: (s: string) => URL.canParse(s),
  uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  byte: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
} as const;

function normaliseOffset(dateTime: string): string {
  return dateTime.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
}

/** Atlassian's OpenAPI description, loaded once per test file; validators compiled once per operation. */
export class JiraSpec {
  private readonly paths: CompiledPath[];
  private readonly ajvs = new Map<string, Ajv>();
  private readonly validators = new Map<string, ValidateFunction>();
  /** Milliseconds spent reading + parsing the file, and preparing the schemas and the path index. */
  readonly loadTimings: { readonly parseMs: number; readonly prepareMs: number };
  private readonly requestSchemas: Json;
  private readonly responseSchemas: Json;

  private constructor(
    private readonly document: OpenApiDocument,
    parseMs: number,
  ) {
    const started = performance.now();
    this.paths = Object.keys(document.paths).map((template) => {
      const segments = template
        .split('/')
        .slice(1)
        .map((part) => {
          const param = /^\{(.+)\}$/.exec(part)?.[1];
          return param === undefined ? { literal: part } : { param };
        });
      return { template, segments, literals: segments.filter((s) => 'literal' in s).length };
    });
    this.requestSchemas = this.convertComponents('request');
    this.responseSchemas = this.convertComponents('response');
    this.loadTimings = { parseMs, prepareMs: performance.now() - started };
  }

  private static cached: Map<string, JiraSpec> = new Map();

  /** The spec at `path` (default: the operations Convoy calls, test/fixtures/jira/). */
  static load(path = DEFAULT_SPEC_PATH): JiraSpec {
    const cached = JiraSpec.cached.get(path);
    if (cached) return cached;
    const started = performance.now();
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new Error(
        `Cannot read Atlassian's JIRA OpenAPI spec at ${path} (${(error as Error).message}); refresh it with scripts/refresh-jira-spec.mjs`,
      );
    }
    const spec = new JiraSpec(
      withSupplement(JSON.parse(text) as OpenApiDocument),
      performance.now() - started,
    );
    JiraSpec.cached.set(path, spec);
    return spec;
  }

  private convertComponents(direction: 'request' | 'response'): Json {
    return {
      $id: SPEC_ID,
      components: { schemas: toJsonSchema(this.document.components.schemas, direction) },
    };
  }

  /** Finds the operation for a method and a (decoded-later) path; literal segments beat templates. */
  route(method: string, pathname: string): RouteResult {
    const parts = pathname.split('/').slice(1);
    let best: { path: CompiledPath; params: Record<string, string> } | undefined;
    for (const path of this.paths) {
      if (path.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const matches = path.segments.every((segment, index) => {
        const part = parts[index] ?? '';
        if ('literal' in segment) return segment.literal === part;
        if (part === '') return false;
        params[segment.param] = safeDecode(part);
        return true;
      });
      if (matches && (best === undefined || path.literals > best.path.literals)) best = { path, params };
    }
    if (best === undefined) return { kind: 'no-path' };
    const item = this.document.paths[best.path.template] ?? {};
    const key = method.toLowerCase() as Method;
    const operation = item[key];
    if (operation === undefined) {
      return {
        kind: 'no-method',
        template: best.path.template,
        methods: Object.keys(item).map((m) => m.toUpperCase()),
      };
    }
    return {
      kind: 'matched',
      match: {
        operationId: operation.operationId,
        method: key,
        template: best.path.template,
        pathParams: best.params,
        operation,
      },
    };
  }

  /**
   * Checks path and query parameters and the JSON body of a request against its operation; returns
   * the violations (none when the request is valid).
   */
  validateRequest(
    match: MatchedOperation,
    query: URLSearchParams,
    headers: IncomingMessage['headers'],
    body: { readonly raw: string; readonly json?: unknown; readonly parseError?: string },
  ): string[] {
    const violations: string[] = [];
    const parameters = match.operation.parameters ?? [];
    violations.push(...this.validateParameters(match, 'path', parameters, match.pathParams));

    const queryValues: Record<string, unknown> = {};
    for (const name of new Set(query.keys())) {
      const declared = parameters.find((p) => p.in === 'query' && p.name === name);
      if (declared === undefined) {
        violations.push(`query parameter "${name}" is not defined for ${match.operationId}`);
        continue;
      }
      const values = query.getAll(name);
      queryValues[name] = values.length === 1 ? values[0] : values;
    }
    violations.push(...this.validateParameters(match, 'query', parameters, queryValues));

    const headerValues: Record<string, unknown> = {};
    for (const p of parameters) {
      const value = headers[p.name.toLowerCase()];
      if (p.in === 'header' && value !== undefined) headerValues[p.name] = value;
    }
    violations.push(...this.validateParameters(match, 'header', parameters, headerValues));

    const requestBody = match.operation.requestBody;
    if (body.raw.length === 0) {
      if (requestBody?.required === true) violations.push(`a request body is required`);
      return violations;
    }
    if (requestBody === undefined) {
      violations.push(`${match.operationId} takes no request body`);
      return violations;
    }
    const content = requestBody.content ?? {};
    if (content['application/json'] === undefined) return violations;
    const contentType = String(headers['content-type'] ?? '');
    if (!/^application\/json\b/i.test(contentType)) {
      violations.push(`Content-Type must be application/json, got "${contentType}"`);
      return violations;
    }
    if (body.parseError !== undefined) {
      violations.push(`the body is not valid JSON: ${body.parseError}`);
      return violations;
    }
    const schema = content['application/json']?.schema;
    if (schema === undefined) return violations;
    const validate = this.validator(`${match.operationId} body`, 'request', schema);
    if (!validate(body.json)) violations.push(...describe(validate.errors, 'body'));
    return violations;
  }

  /** Checks a response the local JIRA is about to send, so its answers stay true to the spec. */
  validateResponse(match: MatchedOperation, status: number, body: unknown): string[] {
    const schema = match.operation.responses[String(status)]?.content?.['application/json']?.schema;
    if (schema === undefined || body === undefined) return [];
    const validate = this.validator(`${match.operationId} ${status}`, 'response', schema);
    // The spec declares one remote link for GET .../remotelink, but JIRA answers a list unless a
    // globalId is given: a list answered where the schema is not one is checked item by item.
    const items = Array.isArray(body) && this.resolve(schema).type !== 'array' ? body : [body];
    return items.flatMap((item) => (validate(item) ? [] : describe(validate.errors, 'response')));
  }

  private resolve(schema: Json): Json {
    const name =
      typeof schema.$ref === 'string' ? /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1] : undefined;
    return name === undefined ? schema : (this.document.components.schemas[name] ?? schema);
  }

  private validateParameters(
    match: MatchedOperation,
    location: 'path' | 'query' | 'header',
    parameters: readonly OpenApiParameter[],
    values: Record<string, unknown>,
  ): string[] {
    const declared = parameters.filter((p) => p.in === location);
    if (declared.length === 0) return [];
    const schema = {
      type: 'object',
      properties: Object.fromEntries(declared.map((p) => [p.name, p.schema ?? {}])),
      required: declared.filter((p) => p.required === true).map((p) => p.name),
    };
    const typed = Object.fromEntries(
      Object.entries(values).map(([name, value]) => [
        name,
        fromWire(value, declared.find((p) => p.name === name)?.schema ?? {}),
      ]),
    );
    const validate = this.validator(`${match.operationId} ${location}`, 'request', schema);
    return validate(typed) ? [] : describe(validate.errors, `${location} parameter`);
  }

  private validator(key: string, direction: 'request' | 'response', schema: Json): ValidateFunction {
    const cached = this.validators.get(key);
    if (cached) return cached;
    const validate = this.ajv(direction).compile(toJsonSchema(schema, direction) as Json);
    this.validators.set(key, validate);
    return validate;
  }

  /** One ajv per direction: the first reference into the spec's components costs the most, so share it. */
  private ajv(direction: 'request' | 'response'): Ajv {
    let ajv = this.ajvs.get(direction);
    if (ajv === undefined) {
      ajv = new Ajv({
        strict: false,
        allErrors: true,
        formats: FORMATS,
        // The spec is Atlassian's and trusted; checking its 500 schemas against the meta-schema costs time.
        validateSchema: false,
      });
      ajv.addSchema(direction === 'response' ? this.responseSchemas : this.requestSchemas);
      this.ajvs.set(direction, ajv);
    }
    return ajv;
  }
}

/**
 * A parameter as its schema types it: on the wire every value is a string, and arrays are
 * comma-separated (jira.js joins them so) or repeated. A value that does not convert stays a string,
 * so the schema reports it.
 */
function fromWire(value: unknown, schema: Json): unknown {
  if (schema.type === 'array') {
    const items = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
    return items.map((item) => fromWire(item, (schema.items ?? {}) as Json));
  }
  if (Array.isArray(value) || typeof value !== 'string') return value;
  if ((schema.type === 'integer' || schema.type === 'number') && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(value)) {
    return Number(value);
  }
  if (schema.type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** ajv errors as readable lines: where, what, and the detail that helps fix it. */
function describe(errors: ErrorObject[] | null | undefined, what: string): string[] {
  return (errors ?? []).map((error) => {
    const where =
      error.instancePath === '' ? what : `${what} ${error.instancePath.slice(1).replaceAll('/', '.')}`;
    const params = error.params as Record<string, unknown>;
    const detail =
      params.additionalProperty !== undefined
        ? ` (unexpected property "${String(params.additionalProperty)}")`
        : params.allowedValues !== undefined
          ? ` (${JSON.stringify(params.allowedValues)})`
          : '';
    return `${where} ${error.message ?? 'is invalid'}${detail}`;
  });
}

/* ---------------------------------------------------------------------------------------------- */
/* The in-memory JIRA                                                                              */
/* ---------------------------------------------------------------------------------------------- */

export interface JiraWorkflow {
  readonly statuses: readonly {
    readonly id: string;
    readonly name: string;
    readonly category: 'new' | 'indeterminate' | 'done';
  }[];
  /** `from` lists status names; `'*'` makes a global transition, available from every status. */
  readonly transitions: readonly {
    readonly id: string;
    readonly name: string;
    readonly from: readonly string[] | '*';
    readonly to: string;
  }[];
}

/**
 * To Do → In Progress → In Review → Done, with the way back. Transition ids are neither 1, 2, 3 nor
 * JIRA's default 11/21/31 for the same targets, so code that hard-codes ids fails here.
 */
export const DEFAULT_WORKFLOW: JiraWorkflow = {
  statuses: [
    { id: '10000', name: 'To Do', category: 'new' },
    { id: '10001', name: 'In Progress', category: 'indeterminate' },
    { id: '10002', name: 'In Review', category: 'indeterminate' },
    { id: '10003', name: 'Done', category: 'done' },
  ],
  transitions: [
    { id: '21', name: 'Start work', from: ['To Do'], to: 'In Progress' },
    { id: '31', name: 'Request review', from: ['In Progress'], to: 'In Review' },
    { id: '41', name: 'Approve', from: ['In Review'], to: 'Done' },
    { id: '51', name: 'Stop work', from: ['In Progress'], to: 'To Do' },
    { id: '61', name: 'Request changes', from: ['In Review'], to: 'In Progress' },
    { id: '71', name: 'Reopen', from: ['Done'], to: 'To Do' },
  ],
};

const STATUS_CATEGORIES = {
  new: { id: 2, key: 'new', colorName: 'blue-gray', name: 'To Do' },
  indeterminate: { id: 4, key: 'indeterminate', colorName: 'yellow', name: 'In Progress' },
  done: { id: 3, key: 'done', colorName: 'green', name: 'Done' },
} as const;

export interface RemoteLinkState {
  readonly id: number;
  readonly globalId?: string;
  readonly application?: unknown;
  readonly relationship?: string;
  readonly object: Json;
}

export interface IssueState {
  readonly id: string;
  readonly key: string;
  /** The project key: the key up to its last dash. */
  readonly project: string;
  /** The issue type's name. */
  readonly type: string;
  status: string;
  summary: string;
  /** Atlassian Document Format, as created. */
  readonly description?: unknown;
  readonly labels: string[];
  readonly created: string;
  readonly comments: { readonly id: string; readonly body: unknown; readonly created: string }[];
  readonly worklogs: {
    readonly id: string;
    readonly timeSpentSeconds: number;
    readonly started: string;
    readonly comment?: unknown;
    readonly created: string;
  }[];
  readonly remoteLinks: RemoteLinkState[];
}

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  readonly query: Record<string, string[]>;
  /** Parsed JSON when the body was JSON, the raw text otherwise, undefined when empty. */
  readonly body: unknown;
  readonly at: Date;
  /** The spec's operation the request matched, if any. */
  readonly operationId?: string;
  /** True when the request matched an operation and its parameters and body satisfy the spec. */
  readonly valid: boolean;
  readonly violations: readonly string[];
  readonly authorized: boolean;
  /** The injected fault that answered it, or 'rate-limit' when the server's own limit did. */
  fault?: string;
  /** The status answered; 0 when the connection was dropped. */
  status: number;
  /** Where the local JIRA's own answer strayed from the spec (a bug in this server, not in Convoy). */
  responseViolations: readonly string[];
}

export type JiraFault =
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly retryAfter?: string;
      readonly body?: unknown;
    }
  | { readonly kind: 'drop' }
  /** The request takes effect, then the connection drops before the answer: a lost response. */
  | { readonly kind: 'drop-answer' }
  | { readonly kind: 'delay'; readonly ms: number };

/** Which requests a fault applies to; all when empty. */
export interface FaultFilter {
  readonly method?: string;
  readonly operationId?: string;
}

export interface JiraServerOptions {
  /** @default 'convoy-bot@example.com' */
  readonly email?: string;
  /** @default a fixed test token */
  readonly apiToken?: string;
  /** @default DEFAULT_WORKFLOW */
  readonly workflow?: JiraWorkflow;
  /** Issues to create, as keys (in the workflow's first status) or with a status. */
  readonly issues?: readonly (string | { readonly key: string; readonly status?: string })[];
  /**
   * Projects issues can be created in, as keys or with their issue types (default: Task, Bug,
   * Story, Epic). @default ['CON']
   */
  readonly projects?: readonly (string | { readonly key: string; readonly issueTypes?: readonly string[] })[];
  /** Answers 429 with Retry-After once more than `requests` arrive within `windowMs`, as JIRA Cloud does. */
  readonly rateLimit?: { readonly requests: number; readonly windowMs: number };
  readonly specPath?: string;
}

export interface JiraTestServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`: what `CONVOY_JIRA_BASE_URL` would hold. */
  readonly url: string;
  readonly email: string;
  readonly apiToken: string;
  readonly spec: JiraSpec;
  /** Every request so far, oldest first. */
  readonly requests: readonly RecordedRequest[];
  addIssue(key: string, status?: string): IssueState;
  issue(key: string): IssueState | undefined;
  /** Every issue, in the order they were added or created. */
  issues(): IssueState[];
  /** The next `count` matching requests get `fault` (Infinity: until `clearFaults`). */
  failNext(count: number, fault: JiraFault, filter?: FaultFilter): void;
  clearFaults(): void;
  clearRequests(): void;
  close(): Promise<void>;
}

interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

const errors = (...messages: string[]): Json => ({ errorMessages: messages, errors: {} });
const ISSUE_NOT_FOUND = errors('Issue does not exist or you do not have permission to see it.');
const DEFAULT_ISSUE_TYPES = ['Task', 'Bug', 'Story', 'Epic'];
/** What JIRA answers for a field it refuses: the message keyed by the field, as its ErrorCollection has it. */
const fieldError = (field: string, message: string): Json => ({
  errorMessages: [],
  errors: { [field]: message },
});

/** Starts the local JIRA on 127.0.0.1 and a free port. */
export async function startJiraServer(options: JiraServerOptions = {}): Promise<JiraTestServer> {
  const spec = JiraSpec.load(options.specPath);
  const email = options.email ?? 'convoy-bot@example.com';
  const apiToken = options.apiToken ?? 'jira-test-token-0f3c9a';
  const expectedAuth = `Basic ${Buffer.from(`${email}:${apiToken}`).toString('base64')}`;
  const workflow = options.workflow ?? DEFAULT_WORKFLOW;
  const issues = new Map<string, IssueState>();
  const requests: RecordedRequest[] = [];
  const faults: { remaining: number; fault: JiraFault; filter: FaultFilter }[] = [];
  const recent: number[] = [];
  let baseUrl = '';
  let nextIssueId = 10001;
  let nextId = 20001;
  const projects = new Map(
    (options.projects ?? ['CON']).map((project) =>
      typeof project === 'string'
        ? [project, DEFAULT_ISSUE_TYPES]
        : [project.key, project.issueTypes ?? DEFAULT_ISSUE_TYPES],
    ),
  );

  const statusOf = (name: string) => {
    const status = workflow.statuses.find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (status === undefined) {
      throw new Error(
        `status "${name}" is not in the workflow (${workflow.statuses.map((s) => s.name).join(', ')})`,
      );
    }
    return status;
  };

  const addIssue = (key: string, status?: string): IssueState => {
    const initial = statusOf(status ?? workflow.statuses[0]?.name ?? 'To Do');
    const issue: IssueState = {
      id: String(nextIssueId++),
      key: key.toUpperCase(),
      project: key.toUpperCase().replace(/-[^-]*$/, ''),
      type: 'Task',
      status: initial.name,
      summary: `Issue ${key.toUpperCase()}`,
      labels: [],
      created: jiraTime(new Date()),
      comments: [],
      worklogs: [],
      remoteLinks: [],
    };
    issues.set(issue.key, issue);
    return issue;
  };
  for (const issue of options.issues ?? []) {
    if (typeof issue === 'string') addIssue(issue);
    else addIssue(issue.key, issue.status);
  }

  const findIssue = (idOrKey: string | undefined) => {
    if (idOrKey === undefined) return undefined;
    return issues.get(idOrKey.toUpperCase()) ?? [...issues.values()].find((i) => i.id === idOrKey);
  };

  const statusDetails = (name: string) => {
    const status = statusOf(name);
    return {
      self: `${baseUrl}/rest/api/3/status/${status.id}`,
      description: '',
      iconUrl: `${baseUrl}/images/icons/statuses/generic.png`,
      name: status.name,
      id: status.id,
      statusCategory: {
        self: `${baseUrl}/rest/api/3/statuscategory/${STATUS_CATEGORIES[status.category].id}`,
        ...STATUS_CATEGORIES[status.category],
      },
    };
  };

  const transitionsFrom = (issue: IssueState) =>
    workflow.transitions
      .filter((t) => t.from === '*' || t.from.some((f) => f.toLowerCase() === issue.status.toLowerCase()))
      .map((t) => ({
        id: t.id,
        name: t.name,
        to: statusDetails(t.to),
        hasScreen: false,
        isGlobal: t.from === '*',
        isInitial: false,
        isAvailable: true,
        isConditional: false,
        isLooped: false,
      }));

  const author = () => ({
    self: `${baseUrl}/rest/api/3/user?accountId=5b10ac8d82e05b22cc7d4ef5`,
    accountId: '5b10ac8d82e05b22cc7d4ef5',
    displayName: 'Convoy',
    active: true,
  });

  /** What the in-memory JIRA does for each operation it simulates. */
  const operations: Record<string, (issue: IssueState, body: Json, query: URLSearchParams) => Answer> = {
    getIssue(issue, _body, query) {
      const wanted = query.getAll('fields').flatMap((f) => f.split(','));
      const all = wanted.length === 0 || wanted.some((f) => f === '*all' || f === '*navigable');
      const fields: Json = {};
      if (all || wanted.includes('status')) fields.status = statusDetails(issue.status);
      if (all || wanted.includes('summary')) fields.summary = issue.summary;
      const expand = (query.get('expand') ?? '').split(',');
      return {
        status: 200,
        body: {
          expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
          id: issue.id,
          self: `${baseUrl}/rest/api/3/issue/${issue.id}`,
          key: issue.key,
          fields,
          ...(expand.includes('transitions') ? { transitions: transitionsFrom(issue) } : {}),
        },
      };
    },
    getTransitions(issue, _body, query) {
      const only = query.get('transitionId');
      const transitions = transitionsFrom(issue).filter((t) => only === null || t.id === only);
      return { status: 200, body: { transitions } };
    },
    doTransition(issue, body) {
      const id = (body.transition as Json | undefined)?.id;
      const transition = workflow.transitions.find(
        (t) =>
          t.id === id &&
          (t.from === '*' || t.from.some((f) => f.toLowerCase() === issue.status.toLowerCase())),
      );
      if (transition === undefined) {
        return { status: 400, body: errors(`Transition id '${String(id)}' is not valid for this issue.`) };
      }
      issue.status = statusOf(transition.to).name;
      return { status: 204 };
    },
    getRemoteIssueLinks(issue, _body, query) {
      const globalId = query.get('globalId');
      const render = (link: RemoteLinkState) => ({
        id: link.id,
        self: `${baseUrl}/rest/api/3/issue/${issue.key}/remotelink/${link.id}`,
        ...(link.globalId === undefined ? {} : { globalId: link.globalId }),
        ...(link.application === undefined ? {} : { application: link.application }),
        ...(link.relationship === undefined ? {} : { relationship: link.relationship }),
        object: link.object,
      });
      if (globalId === null) return { status: 200, body: issue.remoteLinks.map(render) };
      const link = issue.remoteLinks.find((l) => l.globalId === globalId);
      return link === undefined
        ? { status: 404, body: errors('No remote link with the given globalId was found.') }
        : { status: 200, body: render(link) };
    },
    createOrUpdateRemoteIssueLink(issue, body) {
      const globalId = typeof body.globalId === 'string' ? body.globalId : undefined;
      const existing =
        globalId === undefined ? -1 : issue.remoteLinks.findIndex((l) => l.globalId === globalId);
      const id = existing >= 0 ? (issue.remoteLinks[existing]?.id ?? nextId++) : nextId++;
      const link: RemoteLinkState = {
        id,
        ...(globalId === undefined ? {} : { globalId }),
        ...(body.application === undefined ? {} : { application: body.application }),
        ...(typeof body.relationship === 'string' ? { relationship: body.relationship } : {}),
        object: body.object as Json,
      };
      if (existing >= 0) issue.remoteLinks[existing] = link;
      else issue.remoteLinks.push(link);
      return {
        status: existing >= 0 ? 200 : 201,
        body: { id, self: `${baseUrl}/rest/api/3/issue/${issue.key}/remotelink/${id}` },
      };
    },
    getComments(issue) {
      const comments = issue.comments.map((c) => renderComment(issue, c));
      return {
        status: 200,
        body: { startAt: 0, maxResults: 50, total: comments.length, comments },
      };
    },
    addComment(issue, body) {
      const comment = { id: String(nextId++), body: body.body, created: jiraTime(new Date()) };
      issue.comments.push(comment);
      return { status: 201, body: renderComment(issue, comment) };
    },
    getIssueWorklog(issue) {
      const worklogs = issue.worklogs.map((w) => renderWorklog(issue, w));
      return {
        status: 200,
        body: { startAt: 0, maxResults: 1048576, total: worklogs.length, worklogs },
      };
    },
    addWorklog(issue, body) {
      const worklog = {
        id: String(nextId++),
        timeSpentSeconds:
          typeof body.timeSpentSeconds === 'number'
            ? body.timeSpentSeconds
            : parseDuration(String(body.timeSpent)),
        started: String(body.started),
        ...(body.comment === undefined ? {} : { comment: body.comment }),
        created: jiraTime(new Date()),
      };
      issue.worklogs.push(worklog);
      return { status: 201, body: renderWorklog(issue, worklog) };
    },
  };

  /** Operations that act on the site rather than on one issue. */
  const siteOperations: Record<string, (body: Json) => Answer> = {
    createIssue(body) {
      const fields = (body.fields ?? {}) as Json;
      const project = fields.project as Json | undefined;
      const projectKey = typeof project?.key === 'string' ? project.key.toUpperCase() : undefined;
      const issueTypes = projectKey === undefined ? undefined : projects.get(projectKey);
      if (projectKey === undefined || issueTypes === undefined) {
        return { status: 400, body: fieldError('project', 'Specify a valid project ID or key') };
      }
      const typeName = (fields.issuetype as Json | undefined)?.name;
      const type = issueTypes.find((t) => typeof typeName === 'string' && sameName(t, typeName));
      if (type === undefined) {
        return { status: 400, body: fieldError('issuetype', 'Specify a valid issue type') };
      }
      const summary = fields.summary;
      if (typeof summary !== 'string' || summary.trim() === '') {
        return { status: 400, body: fieldError('summary', 'You must specify a summary of the issue.') };
      }
      if (/[\r\n]/.test(summary) || summary.length > 255) {
        return {
          status: 400,
          body: fieldError('summary', 'Summary must be one line of less than 255 characters.'),
        };
      }
      const labels = fields.labels ?? [];
      if (!Array.isArray(labels) || labels.some((l) => typeof l !== 'string' || /\s/.test(l) || l === '')) {
        return { status: 400, body: fieldError('labels', 'The label must not contain spaces.') };
      }
      const taken = [...issues.values()]
        .filter((i) => i.project === projectKey)
        .map((i) => Number(i.key.slice(projectKey.length + 1)) || 0);
      const issue = addIssue(`${projectKey}-${Math.max(0, ...taken) + 1}`);
      const created: IssueState = {
        ...issue,
        type,
        summary,
        labels: [...(labels as string[])],
        ...(fields.description === undefined ? {} : { description: fields.description }),
      };
      issues.set(created.key, created);
      return {
        status: 201,
        body: { id: created.id, key: created.key, self: `${baseUrl}/rest/api/3/issue/${created.id}` },
      };
    },
    searchAndReconsileIssuesUsingJqlPost(body) {
      const query = parseJql(typeof body.jql === 'string' ? body.jql : '');
      if ('error' in query) return { status: 400, body: errors(query.error) };
      const found = [...issues.values()]
        .filter((issue) =>
          query.clauses.every(({ field, value }) =>
            field === 'project' ? sameName(issue.project, value) : issue.labels.includes(value),
          ),
        )
        .sort((a, b) => (Number(a.id) - Number(b.id)) * (query.descending ? -1 : 1));
      const max = typeof body.maxResults === 'number' ? body.maxResults : 50;
      const wanted = Array.isArray(body.fields) ? body.fields.map(String) : ['id'];
      const render = (issue: IssueState) => {
        if (wanted.every((f) => f === 'id')) return { id: issue.id };
        const all = wanted.some((f) => f === '*all' || f === '*navigable');
        const fields: Json = {};
        if (all || wanted.includes('summary')) fields.summary = issue.summary;
        if (all || wanted.includes('labels')) fields.labels = issue.labels;
        if (all || wanted.includes('status')) fields.status = statusDetails(issue.status);
        return { id: issue.id, key: issue.key, self: `${baseUrl}/rest/api/3/issue/${issue.id}`, fields };
      };
      return { status: 200, body: { issues: found.slice(0, max).map(render), isLast: found.length <= max } };
    },
  };

  const renderComment = (issue: IssueState, c: IssueState['comments'][number]) => ({
    self: `${baseUrl}/rest/api/3/issue/${issue.id}/comment/${c.id}`,
    id: c.id,
    author: author(),
    body: c.body,
    updateAuthor: author(),
    created: c.created,
    updated: c.created,
    jsdPublic: true,
  });

  const renderWorklog = (issue: IssueState, w: IssueState['worklogs'][number]) => ({
    self: `${baseUrl}/rest/api/3/issue/${issue.id}/worklog/${w.id}`,
    author: author(),
    updateAuthor: author(),
    ...(w.comment === undefined ? {} : { comment: w.comment }),
    created: w.created,
    updated: w.created,
    started: w.started,
    timeSpent: formatDuration(w.timeSpentSeconds),
    timeSpentSeconds: w.timeSpentSeconds,
    id: w.id,
    issueId: issue.id,
  });

  const takeFault = (method: string, operationId: string | undefined): JiraFault | undefined => {
    const index = faults.findIndex(
      (f) =>
        f.remaining > 0 &&
        (f.filter.method === undefined || f.filter.method.toUpperCase() === method) &&
        (f.filter.operationId === undefined || f.filter.operationId === operationId),
    );
    const entry = faults[index];
    if (entry === undefined) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) faults.splice(index, 1);
    return entry.fault;
  };

  const rateLimited = (now: number): number | undefined => {
    const limit = options.rateLimit;
    if (limit === undefined) return undefined;
    while (recent.length > 0 && (recent[0] ?? 0) <= now - limit.windowMs) recent.shift();
    if (recent.length >= limit.requests) return (recent[0] ?? now) + limit.windowMs - now;
    recent.push(now);
    return undefined;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = new Date();
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    let json: unknown;
    let parseError: string | undefined;
    if (raw.length > 0) {
      try {
        json = JSON.parse(raw);
      } catch (error) {
        parseError = (error as Error).message;
      }
    }
    const route = spec.route(method, url.pathname);
    const match = route.kind === 'matched' ? route.match : undefined;
    const violations = match
      ? [
          ...spec.validateRequest(match, url.searchParams, req.headers, {
            raw,
            json,
            ...(parseError === undefined ? {} : { parseError }),
          }),
          ...jiraRules(match.operationId, json),
        ]
      : [];
    const authorized = req.headers.authorization === expectedAuth;
    const query: Record<string, string[]> = {};
    for (const name of new Set(url.searchParams.keys())) query[name] = url.searchParams.getAll(name);
    const record: RecordedRequest = {
      method,
      path: url.pathname,
      query,
      body: raw.length === 0 ? undefined : parseError === undefined ? json : raw,
      at,
      ...(match ? { operationId: match.operationId } : {}),
      valid: match !== undefined && violations.length === 0,
      violations,
      authorized,
      status: 0,
      responseViolations: [],
    };
    requests.push(record);

    const send = (answer: Answer, fault?: string) => {
      if (fault !== undefined) record.fault = fault;
      let { status, body } = answer;
      if (match && fault === undefined && status < 300) {
        // The local JIRA checks its own answers too, so the adapter is tested against realistic ones.
        const problems = spec.validateResponse(match, status, body);
        if (problems.length > 0) {
          record.responseViolations = problems;
          body = errors(
            `jira-server bug: its ${match.operationId} response strays from the spec`,
            ...problems,
          );
          status = 500;
        }
      }
      record.status = status;
      const payload = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, {
        ...(payload === '' ? {} : { 'content-type': 'application/json;charset=UTF-8' }),
        ...(status === answer.status ? answer.headers : {}),
      });
      res.end(payload);
    };

    const fault = takeFault(method, match?.operationId);
    if (fault?.kind === 'drop') {
      record.fault = 'drop';
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    if (fault?.kind === 'status') {
      send(
        {
          status: fault.status,
          body: fault.body ?? errors(`Injected fault: HTTP ${fault.status}`),
          ...(fault.retryAfter === undefined ? {} : { headers: { 'retry-after': fault.retryAfter } }),
        },
        `status ${fault.status}`,
      );
      return;
    }
    const waitMs = rateLimited(at.getTime());
    if (waitMs !== undefined) {
      send(
        {
          status: 429,
          body: errors('Rate limit exceeded.'),
          headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
        },
        'rate-limit',
      );
      return;
    }
    if (!authorized) {
      send({
        status: 401,
        body: errors('Client must be authenticated to access this resource.'),
        headers: { 'www-authenticate': 'Basic realm="protected-area"' },
      });
      return;
    }
    if (route.kind === 'no-path') {
      send({
        status: 404,
        body: errors(`No operation of Atlassian's JIRA platform v3 spec matches ${method} ${url.pathname}.`),
      });
      return;
    }
    if (route.kind === 'no-method') {
      send({
        status: 404,
        body: errors(
          `No operation of Atlassian's JIRA platform v3 spec matches ${method} ${url.pathname}: ${route.template} has only ${route.methods.join(', ')}.`,
        ),
      });
      return;
    }
    if (match === undefined) return;
    if (violations.length > 0) {
      send({
        status: 400,
        body: errors(
          `The request does not satisfy Atlassian's OpenAPI spec for ${match.operationId} (${method} ${match.template}):`,
          ...violations,
        ),
      });
      return;
    }
    const siteOperation = siteOperations[match.operationId];
    const answer = (result: Answer) => {
      if (fault?.kind === 'drop-answer') {
        record.fault = 'drop-answer';
        req.socket.destroy();
        return;
      }
      send(result);
    };
    if (siteOperation !== undefined) {
      answer(siteOperation((json ?? {}) as Json));
      return;
    }
    const operation = operations[match.operationId];
    if (operation === undefined) {
      send({
        status: 501,
        body: errors(`jira-server validates ${match.operationId} but does not simulate it.`),
      });
      return;
    }
    const issue = findIssue(match.pathParams.issueIdOrKey);
    if (issue === undefined) {
      send({ status: 404, body: ISSUE_NOT_FOUND });
      return;
    }
    answer(operation(issue, (json ?? {}) as Json, url.searchParams));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(errors(`jira-server failed: ${(error as Error).message}`)));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    email,
    apiToken,
    spec,
    requests,
    addIssue,
    issue: (key) => issues.get(key.toUpperCase()),
    issues: () => [...issues.values()],
    failNext(count, fault, filter = {}) {
      faults.push({ remaining: count, fault, filter });
    },
    clearFaults() {
      faults.length = 0;
    },
    clearRequests() {
      requests.length = 0;
    },
    close() {
      return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

/**
 * What JIRA enforces beyond the schemas, as the spec's own descriptions state it: a transition needs
 * its id; comments, worklog comments and issue descriptions are Atlassian Document Format in API v3;
 * a new worklog has a `started` time and either `timeSpent` or `timeSpentSeconds`.
 */
function jiraRules(operationId: string, body: unknown): string[] {
  const b = (body ?? {}) as Json;
  switch (operationId) {
    case 'doTransition': {
      const transition = b.transition as Json | undefined;
      return typeof transition?.id === 'string' && transition.id !== ''
        ? []
        : ['body transition.id is required to perform a transition'];
    }
    case 'addComment':
      return b.body === undefined ? ['body body is required'] : adfViolations(b.body, 'body body');
    case 'createIssue': {
      const description = (b.fields as Json | undefined)?.description;
      return description === undefined ? [] : adfViolations(description, 'body fields.description');
    }
    case 'addWorklog': {
      const problems: string[] = [];
      if (typeof b.started !== 'string') problems.push('body started is required when creating a worklog');
      const hasText = b.timeSpent !== undefined;
      const hasSeconds = b.timeSpentSeconds !== undefined;
      if (hasText === hasSeconds) problems.push('body needs exactly one of timeSpent and timeSpentSeconds');
      if (hasSeconds && !(Number(b.timeSpentSeconds) > 0))
        problems.push('body timeSpentSeconds must be positive');
      if (b.comment !== undefined) problems.push(...adfViolations(b.comment, 'body comment'));
      return problems;
    }
    default:
      return [];
  }
}

/** The structural rules of an Atlassian Document Format document that JIRA checks on write. */
function adfViolations(value: unknown, where: string): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [
      `${where} must be an Atlassian Document Format document (an object with type "doc"), not ${typeof value}`,
    ];
  }
  const doc = value as Json;
  const problems: string[] = [];
  if (doc.type !== 'doc') problems.push(`${where}.type must be "doc"`);
  if (doc.version !== 1) problems.push(`${where}.version must be 1`);
  const walk = (node: unknown, path: string) => {
    if (node === null || typeof node !== 'object') {
      problems.push(`${path} must be a node object`);
      return;
    }
    const n = node as Json;
    if (typeof n.type !== 'string') problems.push(`${path}.type must be a string`);
    if (n.type === 'text' && (typeof n.text !== 'string' || n.text.length === 0)) {
      problems.push(`${path}.text must be a non-empty string`);
    }
    if (n.content !== undefined) {
      if (!Array.isArray(n.content)) problems.push(`${path}.content must be an array`);
      else for (const [i, child] of n.content.entries()) walk(child, `${path}.content[${i}]`);
    }
  };
  if (!Array.isArray(doc.content)) problems.push(`${where}.content must be an array`);
  else for (const [i, child] of doc.content.entries()) walk(child, `${where}.content[${i}]`);
  return problems;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** JIRA's timestamp format: milliseconds and a `+0000` offset. */
function jiraTime(date: Date): string {
  return date.toISOString().replace('Z', '+0000');
}

/** JIRA's duration text with its default 8-hour days and 5-day weeks, e.g. `1d 2h 30m`. */
function formatDuration(seconds: number): string {
  const units = [
    ['w', 5 * 8 * 3600],
    ['d', 8 * 3600],
    ['h', 3600],
    ['m', 60],
  ] as const;
  let rest = seconds;
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.length > 0 ? parts.join(' ') : '0m';
}

function parseDuration(text: string): number {
  const sizes: Record<string, number> = { w: 5 * 8 * 3600, d: 8 * 3600, h: 3600, m: 60 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)\s*([wdhm])/g))
    total += Number(n) * (sizes[unit ?? 'm'] ?? 60);
  return total;
}

/** A JQL query as the local JIRA reads it: `project` and `labels` equalities joined by AND. */
type JqlQuery =
  | { readonly clauses: { field: 'project' | 'labels'; value: string }[]; readonly descending: boolean }
  | { readonly error: string };

/**
 * The little JQL Convoy sends: `field = value` clauses on `project` and `labels` joined by AND,
 * values bare or double-quoted (with backslash escapes), then an optional `ORDER BY created|key
 * ASC|DESC`. Anything else is refused rather than guessed at; so is a query with no restriction,
 * which `/search/jql` refuses as unbounded.
 */
function parseJql(jql: string): JqlQuery {
  const match = /^(.*?)(?:\s+ORDER\s+BY\s+(created|key)(?:\s+(ASC|DESC))?)?\s*$/is.exec(jql.trim());
  const where = match?.[1]?.trim() ?? '';
  if (where === '') {
    return {
      error: 'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
    };
  }
  const clauses: { field: 'project' | 'labels'; value: string }[] = [];
  const clause = /^\s*(project|labels)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))\s*(?:AND\b|$)/i;
  let rest = where;
  while (rest.trim() !== '') {
    const found = clause.exec(rest);
    if (found === null) {
      return {
        error: `jira-server reads only "project = X" and "labels = X" joined by AND (with ORDER BY created or key), not: ${where}`,
      };
    }
    const value = found[2] === undefined ? (found[3] as string) : found[2].replace(/\\(.)/g, '$1');
    clauses.push({ field: (found[1] as string).toLowerCase() as 'project' | 'labels', value });
    rest = rest.slice(found[0].length);
  }
  return { clauses, descending: match?.[3]?.toUpperCase() === 'DESC' };
}

function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
