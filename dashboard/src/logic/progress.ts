import type { BurndownSeries } from '../types.js';

/** A date `YYYY-MM-DD` as seconds since the epoch (UTC midnight), uPlot's x. */
export const dayToSeconds = (date: string) => Date.parse(`${date}T00:00:00Z`) / 1000;

/** The burndown as chart columns: x, ideal, remaining (null after today). */
export function burndownColumns(series: BurndownSeries): {
  x: number[];
  ideal: (number | null)[];
  remaining: (number | null)[];
} {
  return {
    x: series.points.map((point) => dayToSeconds(point.date)),
    ideal: series.points.map((point) => point.ideal),
    remaining: series.points.map((point) => point.remaining ?? null),
  };
}

/** The chart block of a report document (`GET …/reports/report?format=json`) holding the burndown. */
export function burndownFromReport(document: unknown): BurndownSeries | undefined {
  const sections = (document as { sections?: { blocks?: { kind?: string; series?: BurndownSeries }[] }[] })
    ?.sections;
  for (const section of sections ?? [])
    for (const block of section.blocks ?? []) if (block.kind === 'chart' && block.series) return block.series;
  return undefined;
}

/** Metric points as chart columns, oldest first, x in seconds. */
export function metricColumns(points: readonly { value: number; at: string }[]): {
  x: number[];
  y: number[];
} {
  const sorted = [...points].sort((a, b) => a.at.localeCompare(b.at));
  return { x: sorted.map((p) => Date.parse(p.at) / 1000), y: sorted.map((p) => p.value) };
}

/** A one-line summary of a metric's recent values, for screen readers and small screens. */
export function describeTrend(name: string, values: readonly number[]): string {
  if (values.length === 0) return `${name}: no values yet`;
  const last = values[values.length - 1] as number;
  const first = values[0] as number;
  const trend = values.length < 2 || last === first ? 'steady' : last > first ? 'up' : 'down';
  return `${name}: ${last} now, ${trend} over ${values.length} value${values.length === 1 ? '' : 's'} (min ${Math.min(...values)}, max ${Math.max(...values)})`;
}
