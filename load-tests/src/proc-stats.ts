import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SEC = 100;

/** Resident set size of a process in bytes, from /proc (Linux). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

interface ProcStat {
  ppid: number;
  /** utime + stime, in clock ticks. */
  own: number;
  /** cutime + cstime: what its children that have exited and been waited for used. */
  reapedChildren: number;
}

function readStat(pid: number): ProcStat | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name may hold spaces; fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const at = (i: number) => Number(fields[i]);
  return { ppid: at(1), own: at(11) + at(12), reapedChildren: at(13) + at(14) };
}

/** User plus system CPU time of a process in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readStat(pid);
  if (!stat) throw new Error(`no process ${pid}`);
  return stat.own / CLOCK_TICKS_PER_SEC;
}

/**
 * CPU seconds of a process and everything it started: its own time and the time of its reaped
 * children (cutime + cstime) plus the live descendants' own time. A child that exits between two
 * readings moves from the second part to the first, so a difference of two readings counts each
 * tick once, also for short-lived processes such as PostgreSQL backends.
 */
export function treeCpuSeconds(rootPid: number): number {
  const root = readStat(rootPid);
  if (!root) throw new Error(`no process ${rootPid}`);
  const children = new Map<number, number[]>();
  const own = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === rootPid) continue;
    const stat = readStat(pid);
    if (!stat) continue;
    own.set(pid, stat.own);
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), pid]);
  }
  let ticks = root.own + root.reapedChildren;
  const queue = [...(children.get(rootPid) ?? [])];
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    ticks += own.get(pid) ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return ticks / CLOCK_TICKS_PER_SEC;
}

/** A named set of processes whose CPU time the harness samples, e.g. "postgres" for a cluster's whole tree. */
export interface CpuSource {
  name: string;
  cpuSeconds(): number;
}

export const processSource = (name: string, pid: number): CpuSource => ({ name, cpuSeconds: () => cpuSeconds(pid) });
export const treeSource = (name: string, rootPid: number): CpuSource => ({ name, cpuSeconds: () => treeCpuSeconds(rootPid) });
export const groupSource = (name: string, pids: readonly number[]): CpuSource => ({ name, cpuSeconds: () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) });

/** CPU seconds each source used between start() and stop(). */
export class CpuSampler {
  readonly #sources: readonly CpuSource[];
  #start: number[] = [];

  constructor(sources: readonly CpuSource[]) {
    this.#sources = sources;
  }

  start(): void {
    this.#start = this.#sources.map((source) => source.cpuSeconds());
  }

  stop(): Record<string, number> {
    return Object.fromEntries(this.#sources.map((source, i) => [source.name, Math.max(0, source.cpuSeconds() - (this.#start[i] ?? 0))]));
  }
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
