import { readdirSync, readFileSync } from 'node:fs';

/** One 10-second sample of one service process. */
export interface ProcessSample {
  /** Seconds since the soak started. */
  t: number;
  rssMb: number;
  heapMb: number | null;
  /** p99 event-loop delay since the previous sample, from the service's own /metrics. */
  loopP99Ms: number | null;
  /** Open file descriptors: sockets, files, pipes. */
  openHandles: number;
}

export function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match?.[1] ? Number(match[1]) / 1024 : 0;
}

export function openHandles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Reads one gauge from Prometheus text, optionally one labelled series of it. */
export function gauge(text: string, name: string, label?: string): number | null {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (label !== undefined && !rest.includes(label)) continue;
    const value = Number(line.trim().split(/\s+/).at(-1));
    if (Number.isFinite(value)) return value;
  }
  return null;
}

export async function sampleProcess(pid: number, metricsUrl: string, t: number): Promise<ProcessSample> {
  let text = '';
  try {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) });
    text = await response.text();
  } catch {
    // A sample without the runtime gauges is still a sample of memory and handles.
  }
  const heap = gauge(text, 'chat_heap_used_bytes');
  const loop = gauge(text, 'chat_eventloop_lag_seconds', 'stat="p99"');
  return {
    t,
    rssMb: round(rssMb(pid)),
    heapMb: heap === null ? null : round(heap / 1024 / 1024),
    loopP99Ms: loop === null ? null : round(loop * 1000),
    openHandles: openHandles(pid),
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
