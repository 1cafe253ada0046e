import { describe, expect, it } from '@jest/globals';
import { timeCalls } from './timed-ports.ts';

class FakeStore {
  readonly #rows: string[] = [];
  insertMessages(rows: readonly string[]): Promise<number> {
    this.#rows.push(...rows);
    return Promise.resolve(rows.length);
  }
  history(): Promise<string[]> {
    return Promise.reject(new Error('connection refused'));
  }
  ping(): Promise<void> {
    return Promise.resolve();
  }
  get size(): number {
    return this.#rows.length;
  }
}

function recordingMetrics() {
  const durations: { seconds: number; labels: Record<string, unknown> }[] = [];
  const failures: Record<string, unknown>[] = [];
  return {
    durations,
    failures,
    metrics: {
      dependencyCallDuration: { record: (seconds: number, labels: Record<string, unknown>) => durations.push({ seconds, labels }) },
      dependencyFailures: { add: (_: number, labels: Record<string, unknown>) => failures.push(labels) },
    } as unknown as Parameters<typeof timeCalls>[3],
  };
}

describe('timeCalls', () => {
  it('times a listed method under its snake_case operation and returns its result', async () => {
    const recorded = recordingMetrics();
    const store = timeCalls(new FakeStore(), 'postgres', ['insertMessages', 'history'], recorded.metrics);
    await expect(store.insertMessages(['a', 'b'])).resolves.toBe(2);
    expect(store.size).toBe(2);
    expect(recorded.durations).toHaveLength(1);
    expect(recorded.durations[0]?.labels).toEqual({ dependency: 'postgres', operation: 'insert_messages', outcome: 'ok' });
    expect(recorded.failures).toEqual([]);
  });

  it('counts a failed call and passes the error on', async () => {
    const recorded = recordingMetrics();
    const store = timeCalls(new FakeStore(), 'postgres', ['insertMessages', 'history'], recorded.metrics);
    await expect(store.history()).rejects.toThrow('connection refused');
    expect(recorded.durations.map((entry) => entry.labels)).toEqual([{ dependency: 'postgres', operation: 'history', outcome: 'error' }]);
    expect(recorded.failures).toEqual([{ dependency: 'postgres', operation: 'history' }]);
  });

  it('leaves methods that are not listed untimed, still working on the original object', async () => {
    const recorded = recordingMetrics();
    const original = new FakeStore();
    const store = timeCalls(original, 'postgres', ['insertMessages'], recorded.metrics);
    await store.ping();
    expect(recorded.durations).toEqual([]);
    expect(store).toBeInstanceOf(FakeStore);
  });
});
