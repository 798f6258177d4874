import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  /** Drawn dashed, so two lines differ by more than colour. */
  readonly dashed?: boolean;
  readonly stroke: string;
}

/**
 * A line chart drawn by uPlot: x in seconds since the epoch. The figure carries a text summary
 * (`summary`) for screen readers; the canvas itself is hidden from them.
 */
export function LineChart(props: {
  x: readonly number[];
  series: readonly ChartSeries[];
  height?: number;
  width?: number;
  summary: string;
  compact?: boolean;
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = host.current;
    if (!element || props.x.length === 0) return;
    const width = props.width ?? Math.max(240, Math.min(element.clientWidth || 640, 960));
    const plot = new uPlot(
      {
        width,
        height: props.height ?? 260,
        legend: { show: !props.compact },
        cursor: { show: !props.compact },
        axes: props.compact ? [{ show: false }, { show: false }] : [{}, { size: 50 }],
        scales: { x: { time: true } },
        series: [
          {},
          ...props.series.map((series) => ({
            label: series.label,
            stroke: series.stroke,
            width: 2,
            ...(series.dashed ? { dash: [6, 4] } : {}),
            spanGaps: false,
          })),
        ],
      },
      [props.x as number[], ...props.series.map((series) => series.values as (number | null)[])],
      element,
    );
    // A chart without a fixed width follows its container: a window narrowed (or a phone turned) after
    // the chart was drawn would otherwise leave it wider than the page.
    const observer =
      props.width === undefined && typeof ResizeObserver !== 'undefined'
        ? new ResizeObserver(() => {
            const next = Math.max(240, Math.min(element.clientWidth || 640, 960));
            if (next !== plot.width) plot.setSize({ width: next, height: plot.height });
          })
        : undefined;
    observer?.observe(element);
    return () => {
      observer?.disconnect();
      plot.destroy();
    };
  }, [props.x, props.series, props.width, props.height, props.compact]);
  return (
    <figure class={props.compact ? 'chart compact' : 'chart'}>
      <div ref={host} aria-hidden="true" />
      <figcaption class={props.compact ? 'visually-hidden' : 'chart-summary'}>{props.summary}</figcaption>
    </figure>
  );
}
