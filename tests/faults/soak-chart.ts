import type { ProcessSample } from './soak-sampler.ts';

const PANEL_W = 360;
const PANEL_H = 200;
const PAD = { left: 56, right: 12, top: 28, bottom: 34 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

type Metric = { key: 'rssMb' | 'heapMb' | 'loopP99Ms' | 'openHandles'; title: string };
const METRICS: Metric[] = [
  { key: 'rssMb', title: 'RSS (MB)' },
  { key: 'heapMb', title: 'heap used (MB)' },
  { key: 'loopP99Ms', title: 'event-loop delay p99 (ms)' },
  { key: 'openHandles', title: 'open handles (fds)' },
];

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Four panels (RSS, heap, event-loop delay, open handles) over time, one line per service. Plain SVG. */
export function renderSoakChart(series: ReadonlyMap<string, readonly ProcessSample[]>, title: string): string {
  const width = PANEL_W * 2;
  const height = PANEL_H * 2 + 60;
  const names = [...series.keys()];
  const tMax = niceMax(Math.max(1, ...[...series.values()].flatMap((samples) => samples.map((s) => s.t))));
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${escapeXml(title)}</text>`,
  ];
  METRICS.forEach((metric, index) => {
    const ox = (index % 2) * PANEL_W;
    const oy = 30 + Math.floor(index / 2) * PANEL_H;
    const plotW = PANEL_W - PAD.left - PAD.right;
    const plotH = PANEL_H - PAD.top - PAD.bottom;
    const values = [...series.values()].flatMap((samples) => samples.map((s) => s[metric.key] ?? 0));
    const yMax = niceMax(Math.max(1, ...values));
    const x = (t: number) => ox + PAD.left + (t / tMax) * plotW;
    const y = (v: number) => oy + PAD.top + plotH - (v / yMax) * plotH;
    parts.push(`<text x="${ox + PAD.left + plotW / 2}" y="${oy + 16}" text-anchor="middle" font-size="12">${metric.title}</text>`);
    for (let i = 0; i <= 4; i++) {
      const tv = (tMax / 4) * i;
      const yv = (yMax / 4) * i;
      parts.push(`<line x1="${x(tv)}" y1="${oy + PAD.top}" x2="${x(tv)}" y2="${oy + PAD.top + plotH}" stroke="#eee"/>`);
      parts.push(`<text x="${x(tv)}" y="${oy + PAD.top + plotH + 14}" text-anchor="middle">${Math.round(tv)} s</text>`);
      parts.push(`<line x1="${ox + PAD.left}" y1="${y(yv)}" x2="${ox + PAD.left + plotW}" y2="${y(yv)}" stroke="#eee"/>`);
      parts.push(`<text x="${ox + PAD.left - 4}" y="${y(yv) + 4}" text-anchor="end">${Math.round(yv * 10) / 10}</text>`);
    }
    parts.push(`<rect x="${ox + PAD.left}" y="${oy + PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
    names.forEach((name, n) => {
      const points = (series.get(name) ?? []).filter((s) => s[metric.key] !== null).map((s) => `${x(s.t).toFixed(1)},${y(s[metric.key] ?? 0).toFixed(1)}`);
      parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${COLORS[n % COLORS.length]}" stroke-width="1.5"/>`);
    });
  });
  names.forEach((name, n) => {
    const lx = 20 + n * 150;
    parts.push(`<line x1="${lx}" y1="${height - 14}" x2="${lx + 20}" y2="${height - 14}" stroke="${COLORS[n % COLORS.length]}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 26}" y="${height - 10}">${escapeXml(name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
