import { performance } from 'node:perf_hooks';

export interface Measurement {
  readonly name: string;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/** Times `fn` after a warm-up, `runs` times; reports the median, which a stray GC pause cannot move. */
export function measure(name: string, fn: () => unknown, runs = 7): Measurement {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return {
    name,
    runs,
    medianMs: times[Math.floor(runs / 2)] as number,
    minMs: times[0] as number,
    maxMs: times.at(-1) as number,
  };
}

export interface Target {
  readonly measurement: Measurement;
  readonly limitMs: number;
}

/** Prints one line per measurement; returns false when a target was missed. */
export function report(title: string, lines: readonly (Measurement | Target)[]): boolean {
  console.log(`\n${title}`);
  let ok = true;
  for (const line of lines) {
    const m = 'measurement' in line ? line.measurement : line;
    const verdict =
      'limitMs' in line
        ? m.medianMs <= line.limitMs
          ? `  ✓ target ≤ ${line.limitMs} ms`
          : `  ✗ target ≤ ${line.limitMs} ms`
        : '';
    if ('limitMs' in line && m.medianMs > line.limitMs) ok = false;
    console.log(
      `  ${m.name.padEnd(44)} median ${m.medianMs.toFixed(1).padStart(8)} ms   (min ${m.minMs.toFixed(1)}, max ${m.maxMs.toFixed(1)}, ${m.runs} runs)${verdict}`,
    );
  }
  return ok;
}

/** Nearest-rank percentile of sorted values (NaN for none). */
export const percentile = (sorted: readonly number[], q: number): number =>
  sorted.length === 0 ? Number.NaN : (sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number);
