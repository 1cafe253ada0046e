import hdr from 'hdr-histogram-js';

type Histogram = ReturnType<typeof hdr.build>;

/** Latency percentiles in milliseconds, as every result reports them. */
export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Latencies are recorded in microseconds (1 µs to 60 s, 3 significant digits), so a
 * sub-millisecond loopback round trip keeps its resolution.
 */
export class LatencyRecorder {
  readonly #histogram: Histogram;

  constructor() {
    this.#histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
  }

  recordMs(ms: number): void {
    this.#histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  /** Compressed form, to send a worker's histogram to the coordinator. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.#histogram);
  }

  addEncoded(encoded: string): void {
    const other = hdr.decodeFromCompressedBase64(encoded, 32, false);
    this.#histogram.add(other);
  }

  reset(): void {
    this.#histogram.reset();
  }

  summary(): LatencySummary {
    const h = this.#histogram;
    const ms = (us: number) => Math.round(us) / 1000;
    if (h.totalCount === 0) return { count: 0, p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
    // A percentile is reported as its bucket's upper edge, which can pass the exact max: clamp it.
    const at = (percentile: number) => ms(Math.min(h.getValueAtPercentile(percentile), h.maxValue));
    return { count: h.totalCount, p50: at(50), p95: at(95), p99: at(99), max: ms(h.maxValue), mean: ms(h.mean) };
  }
}

export function mergeEncoded(encoded: readonly string[]): LatencyRecorder {
  const merged = new LatencyRecorder();
  for (const item of encoded) merged.addEncoded(item);
  return merged;
}
