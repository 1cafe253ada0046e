import type { BenchResult, FanoutSeries } from '../result.ts';

const WIDTH = 720;
const HEIGHT = 420;
const PAD = { left: 64, right: 24, top: 40, bottom: 56 };
const COLORS = { 'chat-persisted': '#1f77b4', chat: '#17becf', socketio: '#d62728', relay: '#2ca02c' } as const;

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatTick(value: number): string {
  if (value >= 1_000_000) return `${value / 1_000_000}M`;
  if (value >= 1000) return `${value / 1000}k`;
  return String(value);
}

/**
 * p50 and p99 send-to-delivery latency against delivered messages per second, for our
 * gateways (persister running and stopped) and the two baselines, from one run's JSON. Plain SVG, no dependency.
 */
export function renderFanoutChart(result: Pick<BenchResult, 'scenarios' | 'runId' | 'profile'>): string {
  const fanout = result.scenarios.fanout;
  const series: FanoutSeries[] = fanout ? [fanout.chatPersisted, fanout.chat, fanout.socketio, fanout.relay] : [];
  const points = series.flatMap((s) => s.steps);
  const xMax = niceMax(Math.max(1, ...points.map((p) => p.deliveriesPerSec)));
  const yCap = Math.max(200, niceMax(Math.max(1, ...points.map((p) => p.latency.p99))));
  const yMax = Math.min(yCap, 1000);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (v: number) => PAD.left + (v / xMax) * plotW;
  const y = (v: number) => PAD.top + plotH - (Math.min(v, yMax) / yMax) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`);
  const title = fanout
    ? `Fan-out: ${fanout.sessions} sessions × ${fanout.membersPerSession} members, ${fanout.servers} servers (run ${result.runId}, ${result.profile})`
    : 'Fan-out: no data in this run';
  parts.push(`<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const xv = (xMax / 5) * i;
    const yv = (yMax / 5) * i;
    parts.push(`<line x1="${x(xv)}" y1="${PAD.top}" x2="${x(xv)}" y2="${PAD.top + plotH}" stroke="#eee"/>`);
    parts.push(`<text x="${x(xv)}" y="${PAD.top + plotH + 16}" text-anchor="middle">${formatTick(xv)}</text>`);
    parts.push(`<line x1="${PAD.left}" y1="${y(yv)}" x2="${PAD.left + plotW}" y2="${y(yv)}" stroke="#eee"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${y(yv) + 4}" text-anchor="end">${formatTick(yv)}</text>`);
  }
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">delivered messages per second (all receivers)</text>`);
  parts.push(`<text transform="translate(16 ${PAD.top + plotH / 2}) rotate(-90)" text-anchor="middle">send-to-delivery latency (ms)</text>`);
  if (fanout) {
    const limit = y(fanout.p99LimitMs);
    parts.push(`<line x1="${PAD.left}" y1="${limit}" x2="${PAD.left + plotW}" y2="${limit}" stroke="#999" stroke-dasharray="6 4"/>`);
    parts.push(`<text x="${PAD.left + plotW - 4}" y="${limit - 4}" text-anchor="end" fill="#666">p99 limit ${fanout.p99LimitMs} ms</text>`);
  }
  series.forEach((s, index) => {
    const color = COLORS[s.system];
    for (const [percentile, dash] of [['p99', ''], ['p50', ' stroke-dasharray="4 3"']] as const) {
      const path = s.steps.map((step) => `${x(step.deliveriesPerSec).toFixed(1)},${y(step.latency[percentile]).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
      for (const step of s.steps) {
        // A point above the axis is drawn on its edge, with its value written beside it.
        if (step.latency[percentile] > yMax) parts.push(`<text x="${(x(step.deliveriesPerSec) - 6).toFixed(1)}" y="${(y(yMax) + 14).toFixed(1)}" text-anchor="end" fill="${color}">${percentile} ${Math.round(step.latency[percentile])} ms ↑</text>`);
        parts.push(`<circle cx="${x(step.deliveriesPerSec).toFixed(1)}" cy="${y(step.latency[percentile]).toFixed(1)}" r="3" fill="${color}"><title>${escapeXml(`${s.label} ${percentile}: ${step.latency[percentile]} ms at ${step.deliveriesPerSec} deliveries/s (${step.sendsPerSec} sends/s)`)}</title></circle>`);
      }
    }
    const ly = PAD.top + 14 + index * 18;
    parts.push(`<line x1="${PAD.left + 10}" y1="${ly - 4}" x2="${PAD.left + 34}" y2="${ly - 4}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${PAD.left + 40}" y="${ly}">${escapeXml(`${s.label}: p99 solid, p50 dashed`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
