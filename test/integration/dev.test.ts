import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type DevOptions,
  type DevRuntime,
  DevStartError,
  startDev,
} from '../../functions/local/dev-runtime.js';
import { PID_FILE } from '../../functions/local/dynamodb-local.js';
import { isAlive } from '../../functions/local/processes.js';
import { MINIMAL_PLAN } from '../fixtures/plans.js';
import { tempDir } from '../support/temp.js';
import { until } from '../support/wait.js';

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

function workspace() {
  const dir = tempDir('convoy-dev-');
  const planFile = join(dir, 'plan.yaml');
  writeFileSync(planFile, MINIMAL_PLAN);
  return { dir, planFile, dataDir: join(dir, 'data'), stateDir: join(dir, '.convoy') };
}

const call = async (url: string, token: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

const GATED_PLAN = `version: 1
project: { id: gated, timezone: UTC, start: 2026-01-05 }
people: [{ id: lead }]
agents: [{ id: alpha, owner: lead }]
phases:
  - id: build
    gate: build-gate
    tasks: [{ id: api, agent: alpha, estimate: 1d }]
  - id: ship
    dependsOn: [build]
    tasks: [{ id: release, agent: alpha, estimate: 1d }]
gates:
  - id: build-gate
    criteria: [{ go: "coverage.unit >= 80" }]
    approvers: [lead]
`;

// Each start is a JVM start: 1-3 s on an idle machine, 20 s and more beside other test files.
const TWO_STARTS_TIMEOUT_MS = 300_000;
const BACKGROUND_MS = 60_000;

const running: DevRuntime[] = [];
/** startDev, stopped after the test whatever happens. */
async function dev(options: DevOptions): Promise<DevRuntime> {
  const runtime = await startDev(options);
  running.push(runtime);
  return runtime;
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((runtime) => runtime.stop()));
});

describe('convoy dev', () => {
  it(
    'resumes a gate that waited for a decision when it stopped, so the decision still lands after a restart',
    async () => {
      // Prepare: no coverage, so the gate is NO-GO and waits for the approver.
      const ws = workspace();
      writeFileSync(ws.planFile, GATED_PLAN);
      const options = {
        planFile: ws.planFile,
        dataDir: ws.dataDir,
        stateDir: ws.stateDir,
        log: () => undefined,
      };
      const environment = { ...process.env };
      const first = await dev({ ...options, port: await freePort() });
      const admin = first.tokens.admin;
      for (const to of ['in_progress', 'done'])
        await call(first.url, admin, 'POST', '/v1/plans/gated/tasks/api/transitions', { to });
      const gateOf = async (url: string) =>
        ((await call(url, admin, 'GET', '/v1/plans/gated/gates')).body.gates as { status: string }[])[0]
          ?.status;
      await until(async () => (await gateOf(first.url)) === 'awaiting-decision', {
        timeoutMs: BACKGROUND_MS,
      });
      await first.stop();

      // Act
      const second = await dev({ ...options, port: await freePort() });
      await until(async () => (await gateOf(second.url)) === 'awaiting-decision', {
        timeoutMs: BACKGROUND_MS,
      });
      const decided = await call(second.url, admin, 'POST', '/v1/plans/gated/gates/build-gate/decision', {
        decision: 'advance',
      });
      await until(async () => (await gateOf(second.url)) === 'passed', { timeoutMs: BACKGROUND_MS });
      const status = await call(second.url, admin, 'GET', '/v1/plans/gated/status');
      await second.stop();

      // Assess
      expect(decided.status).toBe(200);
      expect(status.body.phases).toEqual([
        expect.objectContaining({ id: 'build', status: 'passed' }),
        expect.objectContaining({ id: 'ship', status: 'active' }),
      ]);
      // Each start composed its own handlers over its own DynamoDB Local: none went through the
      // environment the process (and anything else running in it) shares.
      expect({ ...process.env }).toEqual(environment);
    },
    TWO_STARTS_TIMEOUT_MS,
  );

  it('prints when each schedule fires next, and runs them on a fast clock', async () => {
    // Prepare: 100,000 times real time, so the next working day's 09:00 standup is seconds away.
    const ws = workspace();
    const lines: string[] = [];

    // Act
    const runtime = await dev({
      planFile: ws.planFile,
      port: await freePort(),
      dataDir: ws.dataDir,
      stateDir: ws.stateDir,
      log: (l) => lines.push(l),
      clockSpeed: 100_000,
    });
    const ran = () => lines.some((line) => /^schedule demo\/standup at \S+: standup ran/.test(line));
    await until(ran, { timeoutMs: BACKGROUND_MS });
    await runtime.stop();

    // Assess
    expect(
      lines.some((line) =>
        /^schedule standup \(standup\): next \w{3} \d{1,2} \w{3}( \d{4})? 09:00 E[SD]T \(America\/New_York\)$/.test(
          line,
        ),
      ),
    ).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/^clock: 100000× real time/));
    expect(ran()).toBe(true);
  });

  it(
    'serves the plan with tokens for the admin, every agent and every person, and keeps all state across a restart',
    async () => {
      // Prepare
      const ws = workspace();
      const lines: string[] = [];
      const first = await dev({
        planFile: ws.planFile,
        port: await freePort(),
        dataDir: ws.dataDir,
        stateDir: ws.stateDir,
        log: (l) => lines.push(l),
      });
      const tokens = JSON.parse(readFileSync(first.tokensFile, 'utf8'));
      await call(first.url, tokens.agents.alpha, 'POST', '/v1/plans/demo/tasks/task-1a/transitions', {
        to: 'in_progress',
      });
      await call(first.url, tokens.agents.alpha, 'POST', '/v1/plans/demo/metrics', {
        name: 'tps',
        value: 42,
      });
      await first.stop();

      // Act
      const second = await dev({
        planFile: ws.planFile,
        port: await freePort(),
        dataDir: ws.dataDir,
        stateDir: ws.stateDir,
        log: (l) => lines.push(l),
      });
      const status = await call(second.url, second.tokens.admin, 'GET', '/v1/plans/demo/status');
      const reused = JSON.parse(readFileSync(second.tokensFile, 'utf8'));
      const devJson = JSON.parse(readFileSync(join(ws.stateDir, 'dev.json'), 'utf8'));
      await second.stop();

      // Assess
      expect(Object.keys(tokens.agents)).toEqual(['alpha', 'beta']);
      expect(Object.keys(tokens.people)).toEqual(['pm']);
      expect(statSync(first.tokensFile).mode & 0o777).toBe(0o600);
      // The key tokens are sealed with: beside tokens.json, the owner's only, kept across the restart.
      const tokenKey = join(ws.dataDir, 'token-key');
      expect(statSync(tokenKey).mode & 0o777).toBe(0o600);
      expect(lines.join('\n')).not.toContain(readFileSync(tokenKey, 'utf8').trim());
      expect(reused).toEqual(tokens);
      expect(status.status).toBe(200);
      expect(
        (status.body.tasks as { id: string; status: string }[]).find((t) => t.id === 'task-1a')?.status,
      ).toBe('in_progress');
      expect((status.body.metrics as Record<string, { value: number }>).tps?.value).toBe(42);
      expect(lines).toContain('plan demo unchanged (version 1); state kept from the last run');
      expect(
        lines.some((line) => / POST \/v1\/plans\/demo\/tasks\/task-1a\/transitions 200 /.test(line)),
      ).toBe(true);
      expect(lines.join('\n')).not.toContain(tokens.admin);
      expect(devJson).toMatchObject({ url: second.url, project: 'demo', tokensFile: second.tokensFile });
      // Stopped, it leaves no dev.json pointing at a server that is gone.
      expect(existsSync(join(ws.stateDir, 'dev.json'))).toBe(false);
    },
    TWO_STARTS_TIMEOUT_MS,
  );

  it('refuses to start with a clear message when the port is taken, before starting DynamoDB Local', async () => {
    // Prepare
    const ws = workspace();
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));

    // Act
    const start = startDev({
      planFile: ws.planFile,
      port,
      dataDir: ws.dataDir,
      stateDir: ws.stateDir,
      log: () => undefined,
    });

    // Assess
    await expect(start).rejects.toThrow(
      new DevStartError(
        `port ${port} is already in use (another convoy dev?); stop it or choose another port with --port ${port + 1}`,
      ),
    );
    blocker.close();
  });

  it('refuses to start on an invalid plan, listing its problems', async () => {
    // Prepare
    const ws = workspace();
    writeFileSync(
      ws.planFile,
      MINIMAL_PLAN.replace('    owner: pm\n  - id: beta', '    owner: pmm\n  - id: beta'),
    );

    // Act
    const start = startDev({
      planFile: ws.planFile,
      port: await freePort(),
      dataDir: ws.dataDir,
      stateDir: ws.stateDir,
      log: () => undefined,
    });

    // Assess
    await expect(start).rejects.toThrow(
      /the plan is invalid; fix these and start again:\n.*plan\.yaml:10:12: agents\[0\]\.owner: unknown person "pmm"/,
    );
  });

  it('refuses to start with a clear message when a setting is out of range', async () => {
    // Prepare
    const ws = workspace();
    process.env.CONVOY_JIRA_REQUESTS_PER_MINUTE = '2000';

    // Act
    const start = startDev({
      planFile: ws.planFile,
      port: await freePort(),
      dataDir: ws.dataDir,
      stateDir: ws.stateDir,
      log: () => undefined,
    });

    // Assess
    try {
      await expect(start).rejects.toThrow(
        new DevStartError(
          'CONVOY_JIRA_REQUESTS_PER_MINUTE must be a whole number from 1 to 1000, got "2000"',
        ),
      );
    } finally {
      delete process.env.CONVOY_JIRA_REQUESTS_PER_MINUTE;
    }
  });
});

/** Pids of the Java processes whose command line names `dataDir` (Linux /proc). */
function javaProcessesOf(dataDir: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return command.includes('java') && command.includes(dataDir) && isAlive(pid);
      } catch {
        return false;
      }
    });
}

/** `convoy dev` as a child process in `dir`, as `npm start` runs it; killed after the test. */
const children: ChildProcess[] = [];
function convoyDev(dir: string, args: readonly string[]) {
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('../../bin/convoy.mjs', import.meta.url)), 'dev', ...args],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
  );
  children.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

const onLinux = existsSync('/proc/self/cmdline');

describe('convoy dev leaves nothing behind and shares nothing by accident', () => {
  it.runIf(onLinux)(
    'stops DynamoDB Local when SIGINT arrives during start-up, and leaves no dev.json',
    async () => {
      // Prepare: wait until the JVM is there but convoy dev has not finished starting.
      const ws = workspace();
      const run = convoyDev(ws.dir, [
        '--plan',
        ws.planFile,
        '--data',
        ws.dataDir,
        '--port',
        String(await freePort()),
      ]);
      await until(() => javaProcessesOf(ws.dataDir).length > 0 || run.child.exitCode !== null, {
        timeoutMs: BACKGROUND_MS,
      });
      const jvms = javaProcessesOf(ws.dataDir);

      // Act
      run.child.kill('SIGINT');
      const code = await run.exited;
      await until(() => jvms.every((pid) => !isAlive(pid)), { timeoutMs: 30_000 });

      // Assess
      expect(jvms).toHaveLength(1);
      expect(run.output()).not.toContain('Convoy is running');
      expect(code).not.toBe(0);
      expect(javaProcessesOf(ws.dataDir)).toEqual([]);
      expect(existsSync(join(ws.dir, '.convoy', 'dev.json'))).toBe(false);
    },
    TWO_STARTS_TIMEOUT_MS,
  );

  it.runIf(onLinux)(
    'stops DynamoDB Local on SIGTERM and removes dev.json and the pid file',
    async () => {
      // Prepare
      const ws = workspace();
      const run = convoyDev(ws.dir, [
        '--plan',
        ws.planFile,
        '--data',
        ws.dataDir,
        '--port',
        String(await freePort()),
      ]);
      await until(() => run.output().includes('Convoy is running') || run.child.exitCode !== null, {
        timeoutMs: BACKGROUND_MS * 2,
      });
      const jvms = javaProcessesOf(ws.dataDir);

      // Act
      run.child.kill('SIGTERM');
      const code = await run.exited;

      // Assess
      expect(run.output()).toContain('Convoy is running');
      expect(code).toBe(0);
      expect(jvms).toHaveLength(1);
      expect(await until(() => javaProcessesOf(ws.dataDir).length === 0, { timeoutMs: 30_000 })).toBe(true);
      expect(existsSync(join(ws.dir, '.convoy', 'dev.json'))).toBe(false);
      expect(existsSync(join(ws.dataDir, PID_FILE))).toBe(false);
    },
    TWO_STARTS_TIMEOUT_MS,
  );

  it.runIf(onLinux)(
    'stops, DynamoDB Local and dev.json included, when the process that started it is killed with SIGKILL',
    async () => {
      // Prepare: a shell starts convoy dev in the background, as npm start does, and waits.
      const ws = workspace();
      const log = join(ws.dir, 'dev.log');
      const bin = fileURLToPath(new URL('../../bin/convoy.mjs', import.meta.url));
      const command = `"${process.execPath}" "${bin}" dev --plan "${ws.planFile}" --data "${ws.dataDir}" --port ${await freePort()}`;
      const shell = spawn('sh', ['-c', `${command} > "${log}" 2>&1 & echo $!; wait`], {
        cwd: ws.dir,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      children.push(shell);
      let printed = '';
      shell.stdout?.on('data', (chunk: Buffer) => {
        printed += chunk.toString();
      });
      const output = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
      await until(() => output().includes('Convoy is running') || shell.exitCode !== null, {
        timeoutMs: BACKGROUND_MS * 2,
      });
      const devPid = Number(printed.trim());
      const jvms = javaProcessesOf(ws.dataDir);

      // Act
      shell.kill('SIGKILL');
      const stopped = await until(() => !isAlive(devPid), { timeoutMs: BACKGROUND_MS });

      // Assess
      expect(output()).toContain('Convoy is running');
      expect(jvms).toHaveLength(1);
      expect(stopped).toBe(true);
      expect(output()).toMatch(/parent process \d+ is gone: stopping/);
      expect(await until(() => javaProcessesOf(ws.dataDir).length === 0, { timeoutMs: 30_000 })).toBe(true);
      expect(existsSync(join(ws.dir, '.convoy', 'dev.json'))).toBe(false);
    },
    TWO_STARTS_TIMEOUT_MS,
  );

  it(
    'refuses a second convoy dev on a data folder in use, naming the pid and port of the first, and changes nothing',
    async () => {
      // Prepare: the first one has work in progress.
      const ws = workspace();
      const options = {
        planFile: ws.planFile,
        dataDir: ws.dataDir,
        stateDir: ws.stateDir,
        log: () => undefined,
      };
      const first = await dev({ ...options, port: await freePort() });
      await call(first.url, first.tokens.admin, 'POST', '/v1/plans/demo/tasks/task-1a/transitions', {
        to: 'in_progress',
      });
      const firstPort = new URL(first.url).port;

      // Act
      const second = startDev({ ...options, port: await freePort() });

      // Assess
      await expect(second).rejects.toThrow(
        `the data folder ${ws.dataDir} is in use by process ${process.pid} (convoy dev on http://127.0.0.1:${firstPort})`,
      );
      const status = await call(first.url, first.tokens.admin, 'GET', '/v1/plans/demo/status');
      expect(
        (status.body.tasks as { id: string; status: string }[]).find((t) => t.id === 'task-1a')?.status,
      ).toBe('in_progress');
      expect(JSON.parse(readFileSync(join(ws.stateDir, 'dev.json'), 'utf8'))).toMatchObject({
        url: first.url,
      });
    },
    TWO_STARTS_TIMEOUT_MS,
  );

  it(
    'answers 503 on /health while DynamoDB Local is down, restarts it, and serves the kept state again (D5)',
    async () => {
      // Prepare
      const ws = workspace();
      const lines: string[] = [];
      const runtime = await dev({
        planFile: ws.planFile,
        port: await freePort(),
        dataDir: ws.dataDir,
        stateDir: ws.stateDir,
        log: (line) => lines.push(line),
      });
      await call(runtime.url, runtime.tokens.admin, 'POST', '/v1/plans/demo/tasks/task-1a/transitions', {
        to: 'in_progress',
      });
      const health = async () => (await fetch(`${runtime.url}/health`)).status;
      const before = await health();

      // Act
      process.kill(runtime.dynamodb.pid, 'SIGKILL');
      const statuses: number[] = [];
      await until(
        async () => {
          statuses.push(await health());
          return statuses.includes(503) && statuses.at(-1) === 200;
        },
        { timeoutMs: BACKGROUND_MS * 2, everyMs: 20 },
      );
      const status = await call(runtime.url, runtime.tokens.admin, 'GET', '/v1/plans/demo/status');

      // Assess
      expect(before).toBe(200);
      expect(statuses).toContain(503);
      expect(statuses.at(-1)).toBe(200);
      expect(lines).toContainEqual(
        expect.stringMatching(/^DynamoDB Local was killed by SIGKILL; \/health answers 503/),
      );
      expect(
        (status.body.tasks as { id: string; status: string }[]).find((t) => t.id === 'task-1a')?.status,
      ).toBe('in_progress');
    },
    TWO_STARTS_TIMEOUT_MS,
  );

  it(
    'stops with a clear message when its data folder is deleted under it, instead of answering 500s',
    async () => {
      // Prepare
      const ws = workspace();
      const runtime = await dev({
        planFile: ws.planFile,
        port: await freePort(),
        dataDir: ws.dataDir,
        stateDir: ws.stateDir,
        log: () => undefined,
      });
      const jvm = runtime.dynamodb.pid;

      // Act
      rmSync(ws.dataDir, { recursive: true, force: true });
      const failure = await Promise.race([
        runtime.failed,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), BACKGROUND_MS)),
      ]);

      // Assess
      expect(failure?.message).toMatch(
        new RegExp(`^the data folder ${ws.dataDir} was deleted, .* while Convoy was running; Convoy stopped`),
      );
      await expect(fetch(`${runtime.url}/health`)).rejects.toThrow();
      expect(await until(() => !isAlive(jvm), { timeoutMs: 30_000 })).toBe(true);
      expect(existsSync(join(ws.stateDir, 'dev.json'))).toBe(false);
    },
    TWO_STARTS_TIMEOUT_MS,
  );
});

describe('convoy dev --start', () => {
  it(
    'moves a plan from the past to start on the next working day, opens no lateness escalation, and keeps that start after a restart',
    async () => {
      // Prepare: the example plan, ten months old, on a clock an hour a minute so the monitors run.
      const ws = workspace();
      const example = fileURLToPath(new URL('../../examples/sprint-20-23.yaml', import.meta.url));
      const lines: string[] = [];
      const options = {
        planFile: example,
        dataDir: ws.dataDir,
        stateDir: ws.stateDir,
        log: (line: string) => lines.push(line),
        clockSpeed: 60,
        start: 'today',
      };
      const first = await dev({ ...options, port: await freePort() });
      const escalations = async (url: string, token: string) =>
        (await call(url, token, 'GET', '/v1/plans/sprint-20-23/escalations')).body;
      await new Promise((resolve) => setTimeout(resolve, 5_000)); // five minutes of the dev clock
      const opened = await escalations(first.url, first.tokens.admin);
      const status = await call(first.url, first.tokens.admin, 'GET', '/v1/plans/sprint-20-23/status');
      await first.stop();

      // Act
      const second = await dev({ ...options, port: await freePort() });
      const restarted = lines.filter((line) => line.startsWith('demo start:'));
      await second.stop();

      // Assess
      expect(restarted).toHaveLength(2);
      expect(restarted[0]).toMatch(
        /^demo start: plan sprint-20-23 starts \w{3} \d{4}-\d{2}-\d{2} instead of 2026-01-01: /,
      );
      const chosen = /starts \w{3} (\d{4}-\d{2}-\d{2})/.exec(restarted[0] as string)?.[1];
      expect(restarted[1]).toContain(
        `starts ${/starts (\w{3} \d{4}-\d{2}-\d{2})/.exec(restarted[0] as string)?.[1]}`,
      );
      expect(restarted[1]).toMatch(/kept from the first run/);
      expect(
        chosen !== undefined && chosen >= new Date(Date.now() - 86_400_000).toISOString().slice(0, 10),
      ).toBe(true);
      expect(opened).toMatchObject({ escalations: [] });
      expect(JSON.stringify(status.body)).not.toMatch(/days? late/);
    },
    TWO_STARTS_TIMEOUT_MS,
  );
});
