/**
 * Where a send's time goes inside our gateways, read from their own /metrics before and after a
 * window: the send-to-ack histogram, the Redis and NATS calls it waits on, the fan-out latency at
 * the receiving gateways, and the event-loop delay. A tail that every stage shares points at the
 * process (a stall, or the CPU taken by others); a tail in one call points at that dependency.
 */

export interface StageSpec {
  stage: string;
  metric: string;
  labels: Readonly<Record<string, string>>;
}

/** The stages of a send in the order it goes through them, then the fan-out. */
export const SEND_STAGES: readonly StageSpec[] = [
  { stage: 'send → ack', metric: 'chat_send_ack_latency_seconds', labels: { transport: 'ws' } },
  { stage: 'redis reserve', metric: 'chat_dependency_call_duration_seconds', labels: { dependency: 'redis', operation: 'reserve', outcome: 'ok' } },
  { stage: 'nats publish (PubAck)', metric: 'chat_dependency_call_duration_seconds', labels: { dependency: 'nats', operation: 'publish', outcome: 'ok' } },
  { stage: 'redis commit', metric: 'chat_dependency_call_duration_seconds', labels: { dependency: 'redis', operation: 'commit', outcome: 'ok' } },
  { stage: 'message timestamp → bus arrival', metric: 'chat_fanout_delivery_latency_seconds', labels: {} },
];

/** Cumulative bucket counts by upper bound in seconds (Infinity for +Inf), summed over gateways. */
export type Buckets = Map<number, number>;

export interface StageSnapshot {
  buckets: Map<string, Buckets>;
  /** Event-loop delay since the previous scrape, the worst gateway's, in seconds. */
  eventLoop: { p99: number; max: number } | null;
}

export interface StageFigures {
  stage: string;
  count: number;
  /** Calls (or messages) over 10 ms and over 25 ms: exact, both are bucket bounds. */
  over10ms: number;
  over25ms: number;
  /** The upper bound of the bucket holding the 99th percentile, in ms; null when nothing was recorded or it is past the largest bound. */
  p99AtMostMs: number | null;
}

export interface GatewayStages {
  stages: StageFigures[];
  /** Over the window (the first scrape resets it), the worst gateway's; null when not reported. */
  eventLoop: { p99Ms: number; maxMs: number } | null;
}

const LINE = /^([a-z_]+)\{([^}]*)\}\s+(\S+)$/;
const LABEL = /([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g;

function labelsOf(text: string): Map<string, string> {
  return new Map([...text.matchAll(LABEL)].map((match) => [match[1] ?? '', match[2] ?? '']));
}

/** Adds one gateway's Prometheus text to a snapshot. */
export function addScrape(snapshot: StageSnapshot, text: string, stages: readonly StageSpec[] = SEND_STAGES): void {
  let p99: number | undefined;
  let max: number | undefined;
  for (const line of text.split('\n')) {
    const match = LINE.exec(line);
    if (!match) continue;
    const [, name = '', labelText = '', valueText = ''] = match;
    const value = Number(valueText);
    const labels = labelsOf(labelText);
    if (name === 'chat_eventloop_lag_seconds') {
      if (labels.get('stat') === 'p99') p99 = value;
      if (labels.get('stat') === 'max') max = value;
      continue;
    }
    for (const spec of stages) {
      if (name !== `${spec.metric}_bucket` || !Object.entries(spec.labels).every(([key, wanted]) => labels.get(key) === wanted)) continue;
      const le = labels.get('le');
      if (le === undefined) continue;
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      const buckets = snapshot.buckets.get(spec.stage) ?? new Map<number, number>();
      buckets.set(bound, (buckets.get(bound) ?? 0) + value);
      snapshot.buckets.set(spec.stage, buckets);
    }
  }
  if (p99 !== undefined && max !== undefined) {
    const worst = snapshot.eventLoop;
    snapshot.eventLoop = { p99: Math.max(p99, worst?.p99 ?? 0), max: Math.max(max, worst?.max ?? 0) };
  }
}

export function emptySnapshot(): StageSnapshot {
  return { buckets: new Map(), eventLoop: null };
}

/** What happened between two snapshots: counts are cumulative, so the window is their difference. */
export function stagesBetween(before: StageSnapshot, after: StageSnapshot, stages: readonly StageSpec[] = SEND_STAGES): GatewayStages {
  const figures = stages.map(({ stage }) => {
    const end = after.buckets.get(stage) ?? new Map<number, number>();
    const start = before.buckets.get(stage) ?? new Map<number, number>();
    const bounds = [...end.keys()].sort((a, b) => a - b);
    const within = (bound: number) => (end.get(bound) ?? 0) - (start.get(bound) ?? 0);
    const count = within(Number.POSITIVE_INFINITY);
    const p99Bound = count === 0 ? undefined : bounds.find((bound) => within(bound) >= 0.99 * count);
    return {
      stage,
      count,
      over10ms: count - within(0.01),
      over25ms: count - within(0.025),
      p99AtMostMs: p99Bound === undefined || p99Bound === Number.POSITIVE_INFINITY ? null : round2(p99Bound * 1000),
    };
  });
  const loop = after.eventLoop;
  return { stages: figures, eventLoop: loop ? { p99Ms: round2(loop.p99 * 1000), maxMs: round2(loop.max * 1000) } : null };
}

/** Scrapes every gateway's /metrics into one snapshot (a gateway that does not answer is left out). */
export async function scrapeGateways(httpUrls: readonly string[]): Promise<StageSnapshot> {
  const snapshot = emptySnapshot();
  const texts = await Promise.all(httpUrls.map((url) => fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((res) => res.text()).catch(() => '')));
  for (const text of texts) addScrape(snapshot, text);
  return snapshot;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
