import { existsSync } from 'node:fs';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import {
  ACTUAL_COLOUR,
  IDEAL_COLOUR,
  locateFont,
  plotArea,
  renderBurndownPng,
} from '../../../../functions/adapters/chart/burndown-png.js';
import { buildBurndown } from '../../../../functions/core/reports/burndown.js';
import { weeklyContext } from '../../core/reports/fixture.js';

const rgb = (hex: string) =>
  [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];

/** Pixels of the plot area within a small distance of a colour (anti-aliasing rounds a little). */
function countColour(png: PNG, hex: string): number {
  const [r, g, b] = rgb(hex);
  const area = plotArea(png.width, png.height);
  let count = 0;
  for (let y = area.top + 1; y < area.bottom; y++)
    for (let x = area.left + 1; x < area.right; x++) {
      const i = (y * png.width + x) * 4;
      const data = png.data;
      if (
        Math.abs((data[i] as number) - r) <= 3 &&
        Math.abs((data[i + 1] as number) - g) <= 3 &&
        Math.abs((data[i + 2] as number) - b) <= 3
      )
        count++;
    }
  return count;
}

function series() {
  const ctx = weeklyContext();
  return buildBurndown({ plan: ctx.stored.plan, tasks: ctx.snapshot.tasks, now: ctx.now });
}

describe('renderBurndownPng', () => {
  it('draws an 800 × 400 PNG by default with the ideal and the actual line in their colours', async () => {
    // Act
    const buffer = await renderBurndownPng(series(), { title: 'Burndown · Sprint 20-23' });

    // Assess
    const png = PNG.sync.read(buffer);
    expect([png.width, png.height]).toEqual([800, 400]);
    expect(countColour(png, IDEAL_COLOUR)).toBeGreaterThan(100);
    expect(countColour(png, ACTUAL_COLOUR)).toBeGreaterThan(100);
  });

  it('draws at the size asked for', async () => {
    const png = PNG.sync.read(await renderBurndownPng(series(), { width: 640, height: 360 }));

    expect([png.width, png.height]).toEqual([640, 360]);
    expect(countColour(png, ACTUAL_COLOUR)).toBeGreaterThan(50);
  });

  it('draws a series with a single day and no work done', async () => {
    const single = {
      project: 'tiny',
      total: 1,
      start: '2026-01-05',
      plannedFinish: '2026-01-05',
      today: '2026-01-05',
      points: [{ date: '2026-01-05', day: 0, ideal: 0, remaining: 1 }],
      remaining: 1,
      ideal: 0,
    };

    const png = PNG.sync.read(await renderBurndownPng(single));

    expect([png.width, png.height]).toEqual([800, 400]);
  });
});

describe('locateFont', () => {
  it('finds DejaVu Sans in the dejavu-fonts-ttf package when no copy sits beside the module', () => {
    const path = locateFont();

    expect(path).toMatch(/dejavu-fonts-ttf[\\/]ttf[\\/]DejaVuSans\.ttf$/);
    expect(existsSync(path)).toBe(true);
  });
});
