import type { ChartArchive } from '../../core/ports.js';
import { partitionOf, type SortedItems } from './table.js';

type Chart = { at: string; png: Uint8Array };

/** Report charts in memory, by name and time. */
export class MemoryChartArchive implements ChartArchive {
  private readonly charts = new Map<string, SortedItems<Chart>>();

  async saveChart(project: string, name: string, chart: Chart): Promise<void> {
    partitionOf(this.charts, project).set(`${name}#${chart.at}`, {
      at: chart.at,
      png: Uint8Array.from(chart.png),
    });
  }

  async latestChart(project: string, name: string): Promise<Chart | undefined> {
    const latest = partitionOf(this.charts, project)
      .descending()
      .find(({ key }) => key.startsWith(`${name}#`));
    return latest && copyChart(latest.value);
  }

  async chartAt(project: string, name: string, at: string): Promise<Chart | undefined> {
    const chart = partitionOf(this.charts, project).get(`${name}#${at}`);
    return chart && copyChart(chart);
  }
}

const copyChart = (chart: Chart): Chart => ({ at: chart.at, png: Uint8Array.from(chart.png) });
