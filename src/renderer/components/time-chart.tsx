/**
 * A time-series line chart drawn by uPlot: a canvas chart that stays smooth with 100k points
 * (DESIGN.md example 10: a well-kept library rather than hand-written drawing). The data comes
 * ready from lib/sql-chart.ts; this component only owns the uPlot instance: created once per
 * set of series, fed new data, resized with its box, destroyed on unmount.
 *
 * Times are unix seconds (UTC in the database) and shown in the viewer's local time, as uPlot
 * does by default; the legend's x value says so.
 */
import { useEffect, useRef, type ReactNode } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartData } from '../lib/sql-chart';

const PALETTE = [
  '#1f6feb',
  '#d1242f',
  '#1a7f37',
  '#9a6700',
  '#8250df',
  '#0a7ea4',
  '#bf3989',
  '#57606a',
];

export interface TimeChartProps {
  chart: ChartData;
  height?: number;
  testId?: string;
}

function cssVar(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v === '' ? fallback : v;
}

export function TimeChart({ chart, height = 280, testId }: TimeChartProps): ReactNode {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const labelsKey = chart.labels.join('\u0000');

  // One uPlot per set of series; new rows with the same series only swap the data.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const started = performance.now();
    const text = cssVar('--muted', '#5d6672');
    const grid = cssVar('--border', '#d9dde3');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: { x: { time: true } },
      series: [
        { label: `${chart.timeColumn} (local time)` },
        ...chart.labels.map((label, i) => ({
          label,
          stroke: PALETTE[i % PALETTE.length] ?? '#1f6feb',
          width: 1.5,
          points: { show: false },
          spanGaps: false,
        })),
      ],
      axes: [axis, { ...axis, size: 56 }],
      cursor: { points: { show: false } },
      hooks: {
        draw: [
          (u) => {
            // For tests and curious users: how long the first draw took, and what it drew.
            if (u.root.dataset.drawnMs === undefined)
              u.root.dataset.drawnMs = String(Math.round(performance.now() - started));
            u.root.dataset.points = String(u.data[0].length);
          },
        ],
      },
    };
    const u = new uPlot(opts, chart.data as uPlot.AlignedData, el);
    plot.current = u;
    const ro =
      typeof ResizeObserver === 'undefined'
        ? null
        : new ResizeObserver(() => {
            const w = Math.max(200, el.clientWidth);
            if (w !== u.width) u.setSize({ width: w, height });
          });
    ro?.observe(el);
    return () => {
      ro?.disconnect();
      u.destroy();
      plot.current = null;
    };
    // chart.data is handed over below; only a new set of series rebuilds the chart.
  }, [labelsKey, chart.timeColumn, height]);

  useEffect(() => {
    const u = plot.current;
    if (u && u.data !== chart.data) u.setData(chart.data as uPlot.AlignedData);
  }, [chart.data]);

  return (
    <div
      className="time-chart"
      ref={box}
      data-testid={testId}
      data-series={chart.labels.join(',')}
      data-points={chart.data[0].length}
    />
  );
}
