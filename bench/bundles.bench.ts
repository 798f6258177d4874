import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { ensureTable } from '../functions/adapters/dynamodb/table-definition.js';
import { HTTP_HANDLERS, WORKERS } from '../functions/handlers/routes.js';
import { startDynamoDbLocal } from '../functions/local/dynamodb-local.js';
import { esbuildOptions, REPO_ROOT } from '../lib/bundling/lambda-bundle.js';

/**
 * Issue #12: every Lambda bundle, built as CDK builds it (lib/bundling/lambda-bundle.ts, the options
 * app-function.ts deploys with), under 500 KB minified; and its cold start under 300 ms: a fresh Node
 * process (with the functions' NODE_OPTIONS) imports the bundle and runs its handler once, against
 * DynamoDB Local and a stub endpoint that answers every other AWS call.
 */

const TARGETS = { bundleBytes: 500 * 1000, coldMs: 300 } as const;
/** Fresh processes per bundle; the median counts. */
const COLD_RUNS = 5;
const TABLE = 'convoy-bench-cold';
const PROJECT = 'bench';

/** Every Lambda entry point the stack deploys (routes.ts is what the stack and convoy dev read). */
const ENTRIES = [...Object.keys(HTTP_HANDLERS), ...Object.keys(WORKERS)].sort();

/** An API Gateway HTTP API (payload 2.0) request to `route` (routes.ts syntax), as the handlers receive it. */
function httpEvent(method: string, route: string, body?: string, headers: Record<string, string> = {}) {
  const pathParameters = { project: PROJECT, agent: 'agent-0' };
  const path = route.replace(/\{(\w+)\}/g, (_, name: keyof typeof pathParameters) => pathParameters[name]);
  return {
    version: '2.0',
    routeKey: `${method} ${route}`,
    rawPath: path,
    ...(route.includes('{') ? { pathParameters } : {}),
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'bench' },
      requestId: 'bench-request',
      routeKey: `${method} ${route}`,
      stage: '$default',
      timeEpoch: Date.now(),
    },
    ...(body === undefined ? {} : { body, isBase64Encoded: false }),
  };
}

const bearer = { authorization: 'Bearer cvy_not-a-real-token' };

/**
 * The first invocation of each function: an ordinary request for the HTTP handlers (unknown token, bad
 * signature: what the handler must verify before anything else), an empty or malformed batch for the
 * workers. Each reaches its composition root, its first DynamoDB or AWS call where it has one.
 */
const EVENTS: Record<string, unknown> = {
  health: httpEvent('GET', '/health'),
  'api-read': httpEvent('GET', '/v1/plans/{project}/status', undefined, bearer),
  'api-charts': httpEvent('GET', '/v1/plans/{project}/charts/burndown.png', undefined, bearer),
  'api-plans': httpEvent('PUT', '/v1/plans/{project}', 'version: 1', bearer),
  'api-write': httpEvent(
    'POST',
    '/v1/plans/{project}/agents/{agent}/heartbeat',
    JSON.stringify({ completion: 10 }),
    bearer,
  ),
  mcp: httpEvent('POST', '/mcp', JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }), {
    ...bearer,
    accept: 'application/json, text/event-stream',
  }),
  'webhook-github': httpEvent('POST', '/webhooks/github', '{}', {
    'x-github-event': 'ping',
    'x-github-delivery': 'bench-delivery',
    'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
  }),
  'webhook-jira': httpEvent('POST', '/webhooks/jira', '{}'),
  'slack-interactions': httpEvent('POST', '/slack/interactions', 'payload=%7B%7D', {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
    'x-slack-signature': `v0=${'0'.repeat(64)}`,
  }),
  'github-worker': { Records: [{ messageId: 'bench-1', body: '{"not":"a delivery"}' }] },
  'jira-worker': { source: 'aws.scheduler' },
  'scheduled-job': { project: PROJECT, schedule: 'standup', scheduledTime: new Date().toISOString() },
  monitor: { monitor: 'heartbeats' },
  // A DynamoDB Streams batch with nothing in it: the publisher's composition and its first (empty) pass.
  publisher: { Records: [] },
  'gate-step': { step: 'evaluate', project: PROJECT, gate: 'gate-1', attempt: 1 },
  'gate-starter': {
    detail: {
      type: 'phase.tasks_completed',
      id: 'bench-event',
      project: PROJECT,
      detail: { gate: 'gate-1' },
    },
  },
};

/** Runs in the fresh process: the import and the first invocation, timed separately. */
const CHILD = `
const { performance } = await import('node:perf_hooks');
const started = performance.now();
const mod = await import(process.env.BENCH_BUNDLE);
const imported = performance.now();
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME, functionVersion: '$LATEST', memoryLimitInMB: '512',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench', awsRequestId: 'bench-request',
  logGroupName: 'bench', logStreamName: 'bench', callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10000, done() {}, fail() {}, succeed() {},
};
let outcome;
try {
  const result = await mod.handler(JSON.parse(process.env.BENCH_EVENT), context);
  outcome = result && typeof result === 'object' && 'statusCode' in result ? 'HTTP ' + result.statusCode : 'returned';
} catch (error) {
  outcome = 'threw: ' + String(error && error.message).slice(0, 120);
}
const invoked = performance.now();
process.stdout.write('\\nBENCH_RESULT ' + JSON.stringify({ importMs: imported - started, invokeMs: invoked - imported, outcome }) + '\\n');
process.exit(0);
`;

/** Answers every non-DynamoDB AWS call (Secrets Manager, SQS, SFN, EventBridge) with an empty success. */
function startStubEndpoint(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const body = target.endsWith('GetSecretValue')
        ? {
            ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
            Name: 'bench',
            SecretString: '{}',
          }
        : {};
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(body));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    }),
  );
}

interface Built {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  /** Bytes in the bundle by npm package (or `functions/…` folder), largest first. */
  readonly byPackage: [string, number][];
}

async function bundle(name: string, dir: string): Promise<Built> {
  const file = join(dir, name, 'index.mjs');
  const result = await build({ ...esbuildOptions(name, file), metafile: true });
  const output = (result.metafile as Metafile).outputs[
    Object.keys((result.metafile as Metafile).outputs).find((key) => key.endsWith('index.mjs')) as string
  ];
  if (!output) throw new Error(`esbuild wrote no index.mjs for ${name}`);
  const byPackage = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const pkg =
      /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/').slice(0, 2).join('/');
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytesInOutput);
  }
  return { name, file, bytes: output.bytes, byPackage: [...byPackage].sort((a, b) => b[1] - a[1]) };
}

interface Cold {
  readonly importMs: number;
  readonly invokeMs: number;
  readonly outcome: string;
}

async function coldStart(built: Built, env: NodeJS.ProcessEnv): Promise<Cold> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: join(built.file, '..'),
    env: {
      ...env,
      BENCH_BUNDLE: pathToFileURL(built.file).href,
      BENCH_EVENT: JSON.stringify(EVENTS[built.name] ?? {}),
      AWS_LAMBDA_FUNCTION_NAME: built.name,
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((text) => text.startsWith('BENCH_RESULT '));
  if (!line) throw new Error(`${built.name}: the cold start printed no result:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice('BENCH_RESULT '.length)) as Cold;
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const kb = (bytes: number) => `${(bytes / 1000).toFixed(0)} KB`;

export async function run(): Promise<boolean> {
  // Under the repository, so the bundles find the AWS SDK in node_modules as Lambda finds the runtime's.
  const parent = join(REPO_ROOT, 'node_modules', '.cache');
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(join(parent, 'convoy-bench-bundles-'));
  const dynamo = await startDynamoDbLocal({ readyTimeoutMs: 120_000 });
  const stub = await startStubEndpoint();
  try {
    await ensureTable(dynamo.client(), TABLE);
    const started = performance.now();
    const built = await Promise.all(ENTRIES.map((name) => bundle(name, dir)));
    const buildMs = performance.now() - started;
    // What Lambda sets (app-function.ts), with every AWS call pointed here.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'convoy',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL: stub.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      CONVOY_TABLE_NAME: TABLE,
      CONVOY_DYNAMODB_ENDPOINT: dynamo.endpoint,
      CONVOY_SECRETS_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
      CONVOY_GITHUB_QUEUE_URL: `${stub.url}/123456789012/bench`,
      CONVOY_EVENT_BUS_NAME: 'bench',
      CONVOY_GATE_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:bench',
    };
    console.log(
      `\nLambda bundles (lib/bundling/lambda-bundle.ts, built in ${(buildMs / 1000).toFixed(1)} s) and their cold start: ` +
        `import + first invocation in a fresh node ${process.version} (NODE_OPTIONS=--enable-source-maps), ` +
        `median of ${COLD_RUNS}; ${availableParallelism()} CPUs, load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
    );
    let ok = true;
    for (const fn of built) {
      const runs: Cold[] = [];
      // One after another: parallel starts would measure each other.
      for (let i = 0; i < COLD_RUNS; i++) runs.push(await coldStart(fn, env));
      const importMs = median(runs.map((r) => r.importMs));
      const invokeMs = median(runs.map((r) => r.invokeMs));
      const coldMs = median(runs.map((r) => r.importMs + r.invokeMs));
      const sizeOk = fn.bytes < TARGETS.bundleBytes;
      const coldOk = coldMs < TARGETS.coldMs;
      ok &&= sizeOk && coldOk;
      console.log(
        `  ${fn.name.padEnd(20)} ${kb(fn.bytes).padStart(8)} ${sizeOk ? '✓' : '✗'}   cold ${coldMs.toFixed(0).padStart(4)} ms ${coldOk ? '✓' : '✗'} ` +
          `(import ${importMs.toFixed(0)} + first call ${invokeMs.toFixed(0)} ms → ${runs[0]?.outcome})`,
      );
      console.log(
        `  ${''.padEnd(20)} ${fn.byPackage
          .slice(0, 6)
          .map(([pkg, bytes]) => `${pkg} ${kb(bytes)}`)
          .join(', ')}`,
      );
    }
    console.log(`  targets: every bundle < ${kb(TARGETS.bundleBytes)}, cold start < ${TARGETS.coldMs} ms`);
    return ok;
  } finally {
    await stub.close();
    await dynamo.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

// `tsx bench/bundles.bench.ts` runs this benchmark alone.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = (await run()) ? 0 : 1;
