import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { simulate } from '../functions/local/simulate.js';
import { report } from './harness.js';

/**
 * `convoy simulate examples/sprint-20-23.yaml --days 40` as a newcomer runs it (issue 10): one run,
 * start included, since that is what the person waits for (the stores are in memory: no JVM).
 * Target: under 10 s on a two-core machine with nothing else running (the load average and the
 * process's CPU time are printed beside it: on a busy machine the wall time says little).
 */
export async function run(): Promise<boolean> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  let lines = 0;
  await simulate({ planFile: 'examples/sprint-20-23.yaml', days: 40, print: () => void lines++ });
  const ms = performance.now() - start;
  const { user, system } = process.cpuUsage(cpu);
  console.log(
    `\n(load average ${loadavg()[0]?.toFixed(1)}; CPU ${((user + system) / 1000).toFixed(0)} ms; ${lines} lines of digest)`,
  );
  return report('convoy simulate', [
    {
      measurement: {
        name: 'sprint-20-23.yaml, 40 working days',
        runs: 1,
        medianMs: ms,
        minMs: ms,
        maxMs: ms,
      },
      limitMs: 10_000,
    },
  ]);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = (await run()) ? 0 : 1;
