/**
 * Runs a task over every item of a list a slice per turn of the event loop. A periodic task over
 * all connections (a heartbeat ping is about 10 µs of CPU each, most of it the write) held the
 * loop for ~5 ms per 500 sockets in one turn, and every message in flight waited behind it;
 * between slices the loop serves the I/O that arrived meanwhile.
 */
export class SlicedSweep<T> {
  readonly #sliceSize: number;
  readonly #visit: (item: T) => void;
  #next: NodeJS.Immediate | undefined;

  constructor(sliceSize: number, visit: (item: T) => void) {
    if (!Number.isInteger(sliceSize) || sliceSize < 1) throw new RangeError(`a sweep's slice size must be a positive integer, not ${String(sliceSize)}`);
    this.#sliceSize = sliceSize;
    this.#visit = visit;
  }

  /** True while a sweep has slices left. */
  get running(): boolean {
    return this.#next !== undefined;
  }

  /**
   * Visits each of `items` (as they are now) once: the first slice at once, the others one per
   * later turn. A sweep still running is dropped for this one, which visits everything again.
   */
  run(items: Iterable<T>): void {
    this.cancel();
    const list = [...items];
    let position = 0;
    const slice = (): void => {
      this.#next = undefined;
      const end = Math.min(list.length, position + this.#sliceSize);
      for (; position < end; position++) this.#visit(list[position] as T);
      // setImmediate from inside an immediate runs on the next turn, after that turn's I/O.
      if (position < list.length) this.#next = setImmediate(slice);
    };
    slice();
  }

  cancel(): void {
    if (this.#next !== undefined) clearImmediate(this.#next);
    this.#next = undefined;
  }
}
