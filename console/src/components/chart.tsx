import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A uPlot chart that follows its container's width. The plot is created in the first ResizeObserver callback, which
 * reports the width after the browser's own layout: reading clientWidth here instead would force one synchronous
 * layout per chart (17 on the anomaly page), each invalidated by the previous chart's canvas. `onDrawn` fires once
 * the plot is drawn (bench:ui measures it).
 */
export function Chart({
  options,
  data,
  height = 220,
  label,
  onDrawn,
}: {
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height?: number;
  label: string;
  onDrawn?: () => void;
}) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const host = el.current!;
    let plot: uPlot | undefined;
    const resize = new ResizeObserver(([entry]) => {
      const width = Math.max(200, Math.floor(entry!.contentRect.width));
      if (plot) {
        if (width !== plot.width) plot.setSize({ width, height });
        return;
      }
      let first = true;
      const drawn = () => {
        if (!first) return;
        first = false;
        host.dataset.drawn = 'true';
        onDrawn?.();
      };
      plot = new uPlot({ ...options, width, height, hooks: { ...options.hooks, draw: [...(options.hooks?.draw ?? []), drawn] } }, data, host);
    });
    resize.observe(host);
    return () => {
      resize.disconnect();
      plot?.destroy();
    };
  }, [options, data, height]);
  return <div class="chart" ref={el} role="img" aria-label={label} />;
}

/** Stacked bars: series drawn as cumulative sums, largest first, so each band shows its own share. */
export function stackedBars(x: number[], series: { label: string; color: string; values: number[] }[]): { options: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData } {
  const cumulative: number[][] = [];
  let running = x.map(() => 0);
  for (const s of series) {
    running = running.map((v, i) => v + (s.values[i] ?? 0));
    cumulative.push(running);
  }
  const order = series.map((_, i) => series.length - 1 - i);
  const bars = uPlot.paths.bars!({ size: [0.8, 40] });
  return {
    data: [x, ...order.map((i) => cumulative[i]!)],
    options: {
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [{ stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,.2)' } }, { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,.2)' } }],
      series: [
        {},
        ...order.map((i) => ({
          label: series[i]!.label,
          fill: series[i]!.color,
          stroke: series[i]!.color,
          paths: bars,
          points: { show: false },
          value: (_u: uPlot, _v: number, _si: number, idx: number | null) => (idx === null ? '–' : String(series[i]!.values[idx] ?? 0)),
        })),
      ],
    },
  };
}
