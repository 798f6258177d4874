import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type Bitmap, encodePNGToStream, make, registerFont } from 'pureimage';
import type { BurndownSeries } from '../../core/reports/burndown.js';
import { formatShortDay } from '../../core/reports/dates.js';

/**
 * The burndown chart as a PNG, drawn in pure JavaScript (pureimage), so it renders in Lambda and in
 * `convoy dev` without a browser or native canvas. Remaining estimate against the ideal line, with
 * dated ticks, a legend and today's marker; text in DejaVu Sans.
 */

export const FONT_FAMILY = 'DejaVu Sans';
/** The ideal line (dashed) and the actual remaining estimate (solid): distinct in hue and in pattern. */
export const IDEAL_COLOUR = '#1f77b4';
export const ACTUAL_COLOUR = '#d62728';
const AXIS_COLOUR = '#555555';
const GRID_COLOUR = '#e6e6e6';
const TODAY_COLOUR = '#9a9a9a';
const TEXT_COLOUR = '#222222';
const BACKGROUND = '#ffffff';

/**
 * Where the font is: `DejaVuSans.ttf` beside this module when a bundle ships it there (Lambda),
 * otherwise the `dejavu-fonts-ttf` package.
 */
export function locateFont(): string {
  const beside = new URL('./DejaVuSans.ttf', import.meta.url);
  if (beside.protocol === 'file:' && existsSync(fileURLToPath(beside))) return fileURLToPath(beside);
  return createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
}

let fontLoaded = false;

/**
 * Registers and loads the font once per process. Synchronously: pureimage's asynchronous loader
 * throws from a callback when the file cannot be read; this way a failure is an ordinary error, and
 * the next chart tries again.
 */
function loadFont(): void {
  if (fontLoaded) return;
  registerFont(locateFont(), FONT_FAMILY).loadSync();
  fontLoaded = true;
}

export interface BurndownPngOptions {
  /** @default 800 */
  readonly width?: number;
  /** @default 400 */
  readonly height?: number;
  /** @default `Burndown · <project>` */
  readonly title?: string;
}

/** The plot area inside the margins (axes, ticks, title and legend are outside it). */
export function plotArea(width: number, height: number) {
  return { left: 64, right: width - 24, top: 64, bottom: height - 52 };
}

/** 1, 2 or 5 times a power of ten: a step that makes round tick labels. */
function niceStep(rough: number): number {
  if (!(rough > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

const label = (value: number) => `${Number.isInteger(value) ? value : value.toFixed(1)}d`;

type Context = ReturnType<Bitmap['getContext']>;

function line(ctx: Context, points: readonly (readonly [number, number])[], colour: string, width: number) {
  if (points.length < 2) return;
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  ctx.beginPath();
  const [first, ...rest] = points as [readonly [number, number], ...(readonly [number, number])[]];
  ctx.moveTo(first[0], first[1]);
  for (const [x, y] of rest) ctx.lineTo(x, y);
  ctx.stroke();
}

/** A dashed polyline, drawn dash by dash (pureimage has no setLineDash). */
function dashed(ctx: Context, points: readonly (readonly [number, number])[], colour: string, width: number) {
  const dash = 9;
  const gap = 6;
  let drawing = true;
  let left = dash;
  for (let i = 1; i < points.length; i++) {
    let [x0, y0] = points[i - 1] as readonly [number, number];
    const [x1, y1] = points[i] as readonly [number, number];
    let length = Math.hypot(x1 - x0, y1 - y0);
    while (length > 0) {
      const step = Math.min(left, length);
      const x = x0 + ((x1 - x0) * step) / length;
      const y = y0 + ((y1 - y0) * step) / length;
      if (drawing && step > 0.5)
        line(
          ctx,
          [
            [x0, y0],
            [x, y],
          ],
          colour,
          width,
        );
      [x0, y0] = [x, y];
      length -= step;
      left -= step;
      if (left <= 0) {
        drawing = !drawing;
        left = drawing ? dash : gap;
      }
    }
  }
}

function text(
  ctx: Context,
  value: string,
  x: number,
  y: number,
  size: number,
  align: 'left' | 'center' | 'right',
) {
  ctx.font = `${size}px ${FONT_FAMILY}`;
  ctx.fillStyle = TEXT_COLOUR;
  const width = ctx.measureText(value).width;
  ctx.fillText(value, align === 'left' ? x : align === 'right' ? x - width : x - width / 2, y);
}

/** Renders the series to a PNG of `width` × `height` pixels. */
export async function renderBurndownPng(
  series: BurndownSeries,
  options: BurndownPngOptions = {},
): Promise<Buffer> {
  loadFont();
  const width = Math.max(320, Math.round(options.width ?? 800));
  const height = Math.max(200, Math.round(options.height ?? 400));
  const image = make(width, height);
  const ctx = image.getContext('2d');
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, width, height);

  const area = plotArea(width, height);
  const points = series.points;
  const span = Math.max(1, points.length - 1);
  const top = Math.max(
    1,
    series.total,
    ...points.map((point) => Math.max(point.ideal, point.remaining ?? 0)),
  );
  const yStep = niceStep(top / 5);
  const yMax = Math.ceil(top / yStep) * yStep;
  const xOf = (day: number) => area.left + (day / span) * (area.right - area.left);
  const yOf = (value: number) => area.bottom - (value / yMax) * (area.bottom - area.top);

  text(ctx, options.title ?? `Burndown · ${series.project}`, area.left, 26, 16, 'left');

  // Grid and y ticks.
  for (let value = 0; value <= yMax + 1e-9; value += yStep) {
    const y = Math.round(yOf(value));
    ctx.fillStyle = value === 0 ? AXIS_COLOUR : GRID_COLOUR;
    ctx.fillRect(area.left, y, area.right - area.left, 1);
    text(ctx, label(value), area.left - 8, y + 4, 11, 'right');
  }
  ctx.fillStyle = AXIS_COLOUR;
  ctx.fillRect(area.left, area.top, 1, area.bottom - area.top + 1);
  text(ctx, 'remaining (estimate-days)', area.left, area.top - 8, 11, 'left');

  // x ticks: a date and the working-day count, at a round step that leaves room for the labels.
  const maxTicks = Math.max(2, Math.floor((area.right - area.left) / 72));
  const steps = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000];
  const xStep = steps.find((step) => span / step <= maxTicks) ?? Math.ceil(span / maxTicks);
  for (let day = 0; day < points.length; day += xStep) {
    const point = points[day];
    if (!point) continue;
    const x = Math.round(xOf(day));
    ctx.fillStyle = AXIS_COLOUR;
    ctx.fillRect(x, area.bottom, 1, 5);
    text(ctx, formatShortDay(point.date, series.today), x, area.bottom + 18, 11, 'center');
    text(ctx, `day ${point.day + 1}`, x, area.bottom + 32, 10, 'center');
  }

  // Today.
  const today = points.findLastIndex((point) => point.remaining !== undefined);
  if (today >= 0 && today < points.length - 1) {
    const x = Math.round(xOf(today));
    ctx.fillStyle = TODAY_COLOUR;
    for (let y = area.top; y < area.bottom; y += 6) ctx.fillRect(x, y, 1, 3);
    text(ctx, 'today', x + 4, area.top + 12, 10, 'left');
  }

  dashed(
    ctx,
    points.map((point) => [xOf(point.day), yOf(point.ideal)] as const),
    IDEAL_COLOUR,
    3,
  );
  const actual = points.flatMap((point) =>
    point.remaining === undefined ? [] : [[xOf(point.day), yOf(point.remaining)] as const],
  );
  line(ctx, actual, ACTUAL_COLOUR, 3);
  const last = actual[actual.length - 1];
  if (last) {
    ctx.fillStyle = ACTUAL_COLOUR;
    ctx.fillRect(Math.round(last[0]) - 3, Math.round(last[1]) - 3, 7, 7);
  }

  // Legend, top right.
  const legend: [string, string][] = [
    ['Ideal', IDEAL_COLOUR],
    [`Remaining (${label(Math.round(series.remaining * 10) / 10)})`, ACTUAL_COLOUR],
  ];
  ctx.font = `12px ${FONT_FAMILY}`;
  let x = area.right;
  for (const [name, colour] of [...legend].reverse()) {
    const textWidth = ctx.measureText(name).width;
    x -= textWidth;
    text(ctx, name, x, 30, 12, 'left');
    x -= 22;
    ctx.fillStyle = colour;
    ctx.fillRect(x, 22, 16, 4);
    x -= 18;
  }

  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await encodePNGToStream(image, sink);
  return Buffer.concat(chunks);
}
