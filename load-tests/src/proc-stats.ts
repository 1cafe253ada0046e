import { readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SEC = 100;

/** Resident set size of a process in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** User plus system CPU time of a process in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces; fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS_PER_SEC;
}

/** The soft limit on open files of a process, from /proc/<pid>/limits. */
export function openFilesLimit(pid: number | 'self'): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = /^Max open files\s+(\d+)/m.exec(limits);
  return match?.[1] ? Number(match[1]) : Number.POSITIVE_INFINITY;
}

/** Measures the share of one core a set of processes used between start() and stop(). */
export class CpuMeter {
  readonly #pids: readonly number[];
  #startCpu: number[] = [];
  #startAt = 0;

  constructor(pids: readonly number[]) {
    this.#pids = pids;
  }

  start(): void {
    this.#startCpu = this.#pids.map(cpuSeconds);
    this.#startAt = performance.now();
  }

  /** Percent of one core per process (100 = one full core). */
  stop(): number[] {
    const elapsed = (performance.now() - this.#startAt) / 1000;
    return this.#pids.map((pid, i) => round1((100 * (cpuSeconds(pid) - (this.#startCpu[i] ?? 0))) / Math.max(elapsed, 1e-3)));
  }
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
