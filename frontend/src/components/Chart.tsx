/**
 * A thin React wrapper around uPlot (≈ 50 kB minified, canvas, made for streaming time series):
 * the chart is created once per series layout and only `setData` runs on updates, so a live chart
 * costs one canvas redraw per animation frame at most.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { axisLabels } from '../lib/format';

export interface ChartSeries {
  label: string;
  color: string;
  /** Format of the values in the legend. */
  unit?: string;
  /** Line width in CSS pixels (default 2) and dash pattern (e.g. `[6, 4]`): lines that may
   * coincide stay distinguishable. */
  width?: number;
  dash?: number[];
}

export interface ChartProps {
  /** x (epoch seconds) followed by one array per series. */
  data: (number | null)[][];
  series: ChartSeries[];
  height?: number;
  title?: string;
  yLabel?: string;
  testId?: string;
}

function cssVar(name: string, fallback: string): string {
  if (typeof window === 'undefined' || !window.getComputedStyle) return fallback;
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function Chart({ data, series, height = 240, title, yLabel, testId }: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const layout = series.map((s) => `${s.label}:${s.color}:${s.width ?? 2}:${s.dash?.join(',') ?? ''}`).join('|');
  // Points that carry a value (empty time buckets are gaps, not data): what tests count.
  const columns = data.slice(1);
  const points = (data[0] ?? []).filter((_, i) => columns.some((column) => column[i] !== null && column[i] !== undefined)).length;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const axis = cssVar('--muted', '#888');
    const grid = cssVar('--grid', 'rgba(128,128,128,0.15)');
    const opts: uPlot.Options = {
      title,
      width: Math.max(el.clientWidth, 300),
      height,
      scales: { x: { time: true } },
      axes: [
        { stroke: axis, grid: { stroke: grid } },
        { stroke: axis, grid: { stroke: grid }, label: yLabel, size: 80, values: (_u: uPlot, splits: number[]) => axisLabels(splits) },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: s.width ?? 2,
          ...(s.dash ? { dash: s.dash } : {}),
          spanGaps: true,
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : `${v.toFixed(v < 10 ? 3 : 1)}${s.unit ?? ''}`),
        })),
      ],
    };
    plot.current = new uPlot(opts, data as uPlot.AlignedData, el);
    const resize = typeof ResizeObserver === 'undefined' ? null : new ResizeObserver(() => {
      plot.current?.setSize({ width: Math.max(el.clientWidth, 300), height });
    });
    resize?.observe(el);
    return () => {
      resize?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Recreated only when the series layout changes; data updates go through setData below.
  }, [layout, height, title, yLabel]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div className="chart" ref={host} data-testid={testId} data-points={points} />;
}
