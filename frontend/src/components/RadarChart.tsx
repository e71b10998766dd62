import { DIMENSIONS, type Dimension } from '../api/types';
import { humanize } from '../domain/format';

export const MAX_SCORE = 2;
const WIDTH = 400;
const HEIGHT = 240;
const CENTER: Point = { x: WIDTH / 2, y: HEIGHT / 2 };
const RADIUS = 80;

interface Point {
  x: number;
  y: number;
}

/** The corner of axis `index` (of `count`, first one straight up) at `fraction` of the radius. */
export function axisPoint(index: number, count: number, fraction: number, radius = RADIUS, center: Point = CENTER): Point {
  const angle = -Math.PI / 2 + (2 * Math.PI * index) / count;
  return { x: center.x + Math.cos(angle) * radius * fraction, y: center.y + Math.sin(angle) * radius * fraction };
}

function toPath(points: Point[]): string {
  return points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

/** The five sizing dimensions (0–2 each) drawn as a radar chart in plain SVG. */
export function RadarChart({ scores }: { scores: Record<Dimension, number> }) {
  const count = DIMENSIONS.length;
  const description = DIMENSIONS.map((d) => `${humanize(d)} ${scores[d]} of ${MAX_SCORE}`).join(', ');
  const rings = Array.from({ length: MAX_SCORE }, (_, i) => (i + 1) / MAX_SCORE);
  const shape = DIMENSIONS.map((d, i) => axisPoint(i, count, scores[d] / MAX_SCORE));

  return (
    <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} className="h-auto w-full max-w-[400px]" role="img" aria-label={`Sizing radar: ${description}`} data-testid="radar-chart">
      {rings.map((fraction) => (
        <polygon
          key={fraction}
          points={toPath(DIMENSIONS.map((_, i) => axisPoint(i, count, fraction)))}
          fill="none"
          stroke="#cbd5e1"
          strokeWidth={1}
        />
      ))}
      {DIMENSIONS.map((d, i) => {
        const end = axisPoint(i, count, 1);
        const label = axisPoint(i, count, 1.18);
        const anchor = Math.abs(label.x - CENTER.x) < 4 ? 'middle' : label.x > CENTER.x ? 'start' : 'end';
        return (
          <g key={d}>
            <line x1={CENTER.x} y1={CENTER.y} x2={end.x} y2={end.y} stroke="#cbd5e1" />
            <text x={label.x} y={label.y} textAnchor={anchor} dominantBaseline="middle" fontSize={10} fill="#334155">
              {humanize(d)} ({scores[d]})
            </text>
          </g>
        );
      })}
      <polygon points={toPath(shape)} fill="rgba(37, 99, 235, 0.25)" stroke="#2563eb" strokeWidth={2} data-testid="radar-shape" />
      {shape.map((p, i) => (
        <circle key={DIMENSIONS[i]} cx={p.x} cy={p.y} r={3} fill="#2563eb" />
      ))}
    </svg>
  );
}
