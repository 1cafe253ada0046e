/** setTimeout takes at most this many milliseconds; a later deadline is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One deadline in the sweep; its holder cancels it or moves it with the sweep's methods. */
export interface Deadline {
  readonly at: number;
}

/** What a deadline calls when it passes: its holder itself, so adding one makes no closure. */
export interface DeadlineHolder {
  deadlinePassed(): void;
}

interface Entry extends Deadline {
  at: number;
  readonly holder: DeadlineHolder;
  /** Position in the heap; -1 once fired or cancelled. */
  index: number;
}

/**
 * Deadlines of every connection of a gateway (token expiries) under one timer: a min-heap by time,
 * with the timer armed for the earliest. One timer and one small entry per socket instead of a
 * timer object each; cancelling and moving are O(log n). A deadline always fires from the timer,
 * never from the call that adds it, so its holder is fully built when it runs.
 */
export class ExpirySweep {
  readonly #heap: Entry[] = [];
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #armedFor: number | undefined;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** How many deadlines are pending. */
  get size(): number {
    return this.#heap.length;
  }

  /** Calls `holder.deadlinePassed()` once `at` (ms since the epoch) has passed, unless cancelled before. */
  add(at: number, holder: DeadlineHolder): Deadline {
    const entry: Entry = { at, holder, index: this.#heap.length };
    this.#heap.push(entry);
    this.#up(entry.index);
    this.#arm();
    return entry;
  }

  /** Forgets a deadline; one already fired or cancelled is ignored. */
  cancel(deadline: Deadline): void {
    const entry = deadline as Entry;
    if (entry.index < 0) return;
    this.#removeAt(entry.index);
    this.#arm();
  }

  /** Stops the timer and forgets every deadline. */
  clear(): void {
    for (const entry of this.#heap) entry.index = -1;
    this.#heap.length = 0;
    this.#arm();
  }

  #tick(): void {
    this.#timer = undefined;
    this.#armedFor = undefined;
    const now = this.#now();
    // Taken out before firing, so a deadline added or cancelled by its holder leaves the loop sound.
    for (let top = this.#heap[0]; top !== undefined && top.at <= now; top = this.#heap[0]) {
      this.#removeAt(0);
      top.holder.deadlinePassed();
    }
    this.#arm();
  }

  #arm(): void {
    const first = this.#heap[0];
    if (first?.at === this.#armedFor && (first !== undefined) === (this.#timer !== undefined)) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = undefined;
    if (first === undefined) return;
    const wait = Math.min(Math.max(0, first.at - this.#now()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => this.#tick(), wait);
    this.#timer.unref();
    this.#armedFor = first.at;
  }

  #removeAt(index: number): void {
    const heap = this.#heap;
    const removed = heap[index];
    const last = heap.pop();
    if (removed === undefined || last === undefined) return;
    removed.index = -1;
    if (last === removed) return;
    heap[index] = last;
    last.index = index;
    this.#down(index);
    this.#up(last.index);
  }

  #up(index: number): void {
    const heap = this.#heap;
    const entry = heap[index];
    if (entry === undefined) return;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex];
      if (parent === undefined || parent.at <= entry.at) break;
      heap[index] = parent;
      parent.index = index;
      index = parentIndex;
    }
    heap[index] = entry;
    entry.index = index;
  }

  #down(index: number): void {
    const heap = this.#heap;
    const entry = heap[index];
    if (entry === undefined) return;
    for (;;) {
      const leftIndex = 2 * index + 1;
      const left = heap[leftIndex];
      if (left === undefined) break;
      const right = heap[leftIndex + 1];
      const [childIndex, child] = right !== undefined && right.at < left.at ? [leftIndex + 1, right] : [leftIndex, left];
      if (child.at >= entry.at) break;
      heap[index] = child;
      child.index = index;
      index = childIndex;
    }
    heap[index] = entry;
    entry.index = index;
  }
}
