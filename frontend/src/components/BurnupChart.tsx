// Loaded on demand (React.lazy): uPlot and its stylesheet stay out of the initial bundle.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { HistoryPoint } from '../api/types';

const DAY = 86_400;
const WIDTH = 300;
const HEIGHT = 120;

/** The series uPlot draws: days (UTC midnight, seconds), points total, points completed. */
export function burnupData(points: readonly HistoryPoint[]): uPlot.AlignedData {
  return [
    points.map((p) => Date.parse(`${p.date}T00:00:00Z`) / 1000),
    points.map((p) => p.points_total),
    points.map((p) => p.points_completed),
  ];
}

const axis = { stroke: '#64748b', font: '10px system-ui, sans-serif', grid: { stroke: '#e2e8f0', width: 1 }, ticks: { show: false } };

function options(): uPlot.Options {
  return {
    width: WIDTH,
    height: HEIGHT,
    legend: { show: false },
    cursor: { show: false },
    scales: {
      // From the data (uPlot widens a single day to a thousand), at least a week wide so a young
      // project's few days do not fill the whole width, with a little room for the end points.
      x: {
        time: true,
        range: (u) => {
          const days = u.data[0];
          const last = days[days.length - 1] ?? Math.floor(Date.now() / 1000);
          const first = days[0] ?? last;
          return [Math.min(first, last - 6 * DAY) - DAY / 4, last + DAY / 4];
        },
      },
      y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] },
    },
    axes: [
      { ...axis, size: 22, space: 50, values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' })) },
      { ...axis, size: 28, space: 24 },
    ],
    series: [
      {},
      { label: 'Points total', stroke: '#64748b', width: 2, points: { size: 4 } },
      { label: 'Points completed', stroke: '#16a34a', fill: 'rgba(22, 163, 74, 0.18)', width: 2, points: { size: 4 } },
    ],
  };
}

/** Points completed against points total per day, drawn by uPlot on a canvas. The caption around it carries the numbers. */
export default function BurnupChart({ points }: { points: readonly HistoryPoint[] }) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    if (!container.current) return;
    plot.current = new uPlot(options(), burnupData([]), container.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(burnupData(points));
  }, [points]);

  return <div ref={container} aria-hidden data-testid="burnup-canvas" />;
}
