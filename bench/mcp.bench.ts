import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { type DevInfo, freePort, postJson, stopChild, tail, untilReady } from './convoy-child.js';
import { percentile } from './harness.js';

/**
 * Issue #13: 50 agents, each looping next_task → report_progress → update_task(done) through MCP over
 * HTTP on a plan of 2,000 independent unassigned tasks until all are done; then, in the same run and
 * against the same convoy dev, the same loop through the REST API on a second project of the same
 * plan. Reports tasks done per second, p50/p99 per call, double claims, and MCP / REST throughput.
 */

const AGENTS = 50;
const TASKS = Number(process.env.CONVOY_BENCH_MCP_TASKS ?? 2000);
const TARGET_RATIO = 0.8;
const WARM_UP_TASKS = 300;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = process.env.CONVOY_BENCH_CLI ?? resolve(ROOT, 'dist/convoy.mjs');
const BENCH_PARENT = process.env.CONVOY_BENCH_DIR ?? (existsSync('/dev/shm') ? '/dev/shm' : tmpdir());

const plan = (project: string, tasks = TASKS) => ({
  version: 1,
  project: { id: project, timezone: 'UTC', start: '2026-01-05' },
  people: [{ id: 'pm' }],
  agents: Array.from({ length: AGENTS }, (_, a) => ({ id: `agent-${a}`, owner: 'pm', lease: '30m' })),
  phases: [
    {
      id: 'work',
      tasks: Array.from({ length: tasks }, (_, t) => ({ id: `t${t}`, estimate: '1h' })),
    },
  ],
});

interface LoopResult {
  readonly done: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly calls: ReadonlyMap<string, number[]>;
  readonly doubleClaims: number;
  readonly errors: number;
  readonly firstError?: string;
}

/** One agent's way of making the three calls; `claim` answers the task id and lease, or null when none is left. */
interface Driver {
  claim(): Promise<{ task: string; lease: string } | null>;
  progress(task: string): Promise<void>;
  done(task: string, lease: string): Promise<void>;
  close(): Promise<void>;
}

async function runLoop(drivers: readonly Driver[]): Promise<LoopResult> {
  const calls = new Map<string, number[]>([
    ['claim', []],
    ['progress', []],
    ['done', []],
  ]);
  const claimed = new Set<string>();
  let doubleClaims = 0;
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const timed = async <T>(kind: string, call: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await call();
    } finally {
      calls.get(kind)?.push(performance.now() - start);
    }
  };
  const started = performance.now();
  await Promise.all(
    drivers.map(async (driver) => {
      for (;;) {
        try {
          const claim = await timed('claim', () => driver.claim());
          if (!claim) return;
          if (claimed.has(claim.task)) doubleClaims++;
          claimed.add(claim.task);
          await timed('progress', () => driver.progress(claim.task));
          await timed('done', () => driver.done(claim.task, claim.lease));
          done++;
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message;
          if (errors > 100) throw new Error(`too many errors; the first: ${firstError}`);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const times of calls.values()) times.sort((a, b) => a - b);
  return {
    done,
    seconds,
    perSecond: done / seconds,
    calls,
    doubleClaims,
    errors,
    ...(firstError ? { firstError } : {}),
  };
}

async function mcpDrivers(url: string, project: string, tokens: Record<string, string>): Promise<Driver[]> {
  return Promise.all(
    Array.from({ length: AGENTS }, async (_, a) => {
      const client = new Client({ name: `bench-agent-${a}`, version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${tokens[`agent-${a}`]}` } },
        }),
      );
      const call = async (name: string, args: Record<string, unknown>) => {
        const result = await client.callTool({ name, arguments: args });
        if (result.isError)
          throw new Error(`${name}: ${JSON.stringify(result.content).slice(0, 300)} (project ${project})`);
        return result.structuredContent as Record<string, unknown>;
      };
      return {
        claim: async () => {
          const answer = (await call('next_task', {})) as {
            task: { id: string } | null;
            lease?: { id: string };
          };
          return answer.task ? { task: answer.task.id, lease: answer.lease?.id as string } : null;
        },
        progress: async (task) => {
          await call('report_progress', { task, completion: 50 });
        },
        done: async (task, lease) => {
          await call('update_task', { task, to: 'done', lease });
        },
        close: () => client.close(),
      } satisfies Driver;
    }),
  );
}

function restDrivers(url: string, project: string, tokens: Record<string, string>): Driver[] {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: AGENTS });
  return Array.from({ length: AGENTS }, (_, a) => {
    const id = `agent-${a}`;
    const headers = { authorization: `Bearer ${tokens[id]}` };
    const post = async (path: string, body: unknown) => {
      const answer = await postJson(
        agent,
        base,
        `/v1/plans/${project}${path}`,
        headers,
        JSON.stringify(body),
      );
      if (answer.status >= 300)
        throw new Error(`POST ${path}: ${answer.status} ${answer.text.slice(0, 300)}`);
      return JSON.parse(answer.text) as Record<string, unknown>;
    };
    return {
      claim: async () => {
        const answer = (await post(`/agents/${id}/claim`, {})) as {
          task: { id: string } | null;
          lease?: { id: string };
        };
        return answer.task ? { task: answer.task.id, lease: answer.lease?.id as string } : null;
      },
      progress: async (task) => {
        await post(`/agents/${id}/heartbeat`, { task, completion: 50 });
      },
      done: async (task, lease) => {
        await post(`/tasks/${task}/transitions`, { to: 'done', lease });
      },
      close: async () => agent.destroy(),
    } satisfies Driver;
  });
}

async function request(info: DevInfo, admin: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${info.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** A second project of the same plan, with a token for each of its agents. */
async function secondProject(info: DevInfo, admin: string, project: string, tasks = TASKS) {
  await request(info, admin, 'PUT', `/v1/plans/${project}`, plan(project, tasks));
  const tokens: Record<string, string> = {};
  for (let a = 0; a < AGENTS; a++) {
    const minted = await request(info, admin, 'POST', `/v1/plans/${project}/agents/agent-${a}/tokens`, {});
    tokens[`agent-${a}`] = minted.token as string;
  }
  return tokens;
}

async function tasksLeft(info: DevInfo, admin: string, project: string): Promise<number> {
  const answer = (await request(info, admin, 'GET', `/v1/plans/${project}/tasks?status=todo`)) as {
    tasks: unknown[];
  };
  return answer.tasks.length;
}

function describe(label: string, result: LoopResult): string {
  const line = (kind: string, name: string) => {
    const times = result.calls.get(kind) ?? [];
    return `${name} p50 ${percentile(times, 0.5).toFixed(1)} ms, p99 ${percentile(times, 0.99).toFixed(1)} ms`;
  };
  return (
    `  ${label}: ${result.done} tasks done in ${result.seconds.toFixed(1)} s = ${result.perSecond.toFixed(1)} tasks/s; ` +
    `${line('claim', 'next_task')}; ${line('progress', 'report_progress')}; ${line('done', 'update_task')}; ` +
    `double claims ${result.doubleClaims}; errors ${result.errors}${result.firstError ? ` (first: ${result.firstError})` : ''}`
  );
}

export async function run(): Promise<boolean> {
  if (!process.env.CONVOY_BENCH_CLI)
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const dir = await mkdtemp(join(BENCH_PARENT, 'convoy-mcp-bench-'));
  const planFile = join(dir, 'plan.json');
  const logFile = join(dir, 'convoy-dev.log');
  await writeFile(planFile, JSON.stringify(plan('mcp-bench')));
  const port = await freePort();
  const log = openSync(logFile, 'w');
  const child = spawn(
    process.execPath,
    [CLI, 'dev', '--plan', planFile, '--port', String(port), '--data', join(dir, 'data')],
    { cwd: dir, stdio: ['ignore', log, log], env: { ...process.env, NO_COLOR: '1' } },
  );
  closeSync(log);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  try {
    const info = await untilReady(child, join(dir, '.convoy', 'dev.json'), logFile);
    const tokens = JSON.parse(await readFile(info.tokensFile, 'utf8')) as {
      admin: string;
      agents: Record<string, string>;
    };
    console.log(
      `\nMCP vs REST (issue #13): ${AGENTS} agents, ${TASKS.toLocaleString('en-US')} independent unassigned tasks per project, ` +
        `next_task → report_progress → update_task(done) until none is left; ${availableParallelism()} CPUs, load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
    );
    // REST first, then MCP, each on its own project of the same plan.
    // A warm-up on a third project, not measured: the JVM compiles DynamoDB Local's hot paths during
    // the first load, which would otherwise slow whichever loop runs first.
    const warmTokens = await secondProject(info, tokens.admin, 'warm-up', WARM_UP_TASKS);
    const warm = restDrivers(info.url, 'warm-up', warmTokens);
    await runLoop(warm);
    await Promise.all(warm.map((driver) => driver.close()));
    const restTokens = await secondProject(info, tokens.admin, 'rest-bench');
    const rest = restDrivers(info.url, 'rest-bench', restTokens);
    const restResult = await runLoop(rest);
    await Promise.all(rest.map((driver) => driver.close()));
    const mcp = await mcpDrivers(info.url, info.project, tokens.agents);
    const mcpResult = await runLoop(mcp);
    await Promise.all(mcp.map((driver) => driver.close()));
    const left = {
      mcp: await tasksLeft(info, tokens.admin, info.project),
      rest: await tasksLeft(info, tokens.admin, 'rest-bench'),
    };
    const ratio = mcpResult.perSecond / restResult.perSecond;
    console.log(describe('MCP ', mcpResult));
    console.log(describe('REST', restResult));
    console.log(`  tasks left todo: MCP ${left.mcp}, REST ${left.rest}`);
    const ok =
      ratio >= TARGET_RATIO &&
      mcpResult.doubleClaims === 0 &&
      restResult.doubleClaims === 0 &&
      mcpResult.done === TASKS &&
      restResult.done === TASKS;
    console.log(
      `  ${ok ? 'ok  ' : 'MISS'} MCP / REST throughput ${ratio.toFixed(2)} (target ≥ ${TARGET_RATIO}); double claims ${
        mcpResult.doubleClaims + restResult.doubleClaims
      } (target 0); every task done once: ${mcpResult.done === TASKS && restResult.done === TASKS}`,
    );
    return ok;
  } catch (error) {
    console.log(`MCP bench failed: ${(error as Error).message}\n${tail(logFile)}`);
    return false;
  } finally {
    await stopChild(child, exited);
    if (process.env.CONVOY_BENCH_KEEP) console.log(`  kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
}
