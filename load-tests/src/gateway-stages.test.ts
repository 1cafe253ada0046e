import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { addScrape, emptySnapshot, stagesBetween, type StageSpec } from './gateway-stages.ts';

const BOUNDS = ['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '+Inf'];
const RESERVE: StageSpec = { stage: 'redis reserve', metric: 'chat_dependency_call_duration_seconds', labels: { dependency: 'redis', operation: 'reserve', outcome: 'ok' } };

/** Prometheus text as the gateway serves it: cumulative buckets of one histogram series. */
function histogram(labels: string, perBucket: readonly number[]): string {
  let cumulative = 0;
  return BOUNDS.map((le, i) => {
    cumulative += perBucket[i] ?? 0;
    return `chat_dependency_call_duration_seconds_bucket{${labels},service_name="gateway",le="${le}"} ${String(cumulative)}`;
  }).join('\n');
}

function loop(p99: number, max: number): string {
  return [`chat_eventloop_lag_seconds{stat="p50",service_name="gateway"} 0.0002`, `chat_eventloop_lag_seconds{stat="p99",service_name="gateway"} ${String(p99)}`, `chat_eventloop_lag_seconds{stat="max",service_name="gateway"} ${String(max)}`].join('\n');
}

const reserveLabels = 'dependency="redis",operation="reserve",outcome="ok"';

describe('gateway stages', () => {
  it('counts only what happened between the two scrapes, summed over gateways', () => {
    const before = emptySnapshot();
    addScrape(before, histogram(reserveLabels, [10, 0, 0, 0, 0, 0, 0, 0]), [RESERVE]);
    const after = emptySnapshot();
    // Gateway one: 10 before the window, then 96 fast, 3 between 10 and 25 ms, 1 over 25 ms.
    addScrape(after, histogram(reserveLabels, [106, 0, 0, 0, 3, 1, 0, 0]), [RESERVE]);
    // Gateway two (new in the window): 100 under a millisecond.
    addScrape(after, histogram(reserveLabels, [100, 0, 0, 0, 0, 0, 0, 0]), [RESERVE]);
    const [figures] = stagesBetween(before, after, [RESERVE]).stages;
    expect(figures).toEqual({ stage: 'redis reserve', count: 200, over10ms: 4, over25ms: 1, p99AtMostMs: 25 });
  });

  it('ignores series of other operations, outcomes and metrics', () => {
    const after = emptySnapshot();
    addScrape(
      after,
      [
        histogram('dependency="redis",operation="commit",outcome="ok"', [5, 0, 0, 0, 0, 0, 0, 0]),
        histogram('dependency="redis",operation="reserve",outcome="error"', [0, 0, 0, 0, 0, 0, 0, 7]),
        histogram(reserveLabels, [2, 0, 0, 0, 0, 0, 0, 0]),
      ].join('\n'),
      [RESERVE],
    );
    expect(stagesBetween(emptySnapshot(), after, [RESERVE]).stages[0]).toMatchObject({ count: 2, over10ms: 0, p99AtMostMs: 1 });
  });

  it('reports no percentile for a stage nothing went through', () => {
    expect(stagesBetween(emptySnapshot(), emptySnapshot(), [RESERVE])).toEqual({ stages: [{ stage: 'redis reserve', count: 0, over10ms: 0, over25ms: 0, p99AtMostMs: null }], eventLoop: null });
  });

  it('keeps the worst gateway’s event-loop delay, in milliseconds', () => {
    const after = emptySnapshot();
    addScrape(after, loop(0.004, 0.03), [RESERVE]);
    addScrape(after, loop(0.012, 0.02), [RESERVE]);
    expect(stagesBetween(emptySnapshot(), after, [RESERVE]).eventLoop).toEqual({ p99Ms: 12, maxMs: 30 });
  });

  it('puts the 99th percentile in the first bucket holding 99 % of the window, whatever the spread', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { minLength: BOUNDS.length, maxLength: BOUNDS.length }), (perBucket) => {
        const after = emptySnapshot();
        addScrape(after, histogram(reserveLabels, perBucket), [RESERVE]);
        const [figures] = stagesBetween(emptySnapshot(), after, [RESERVE]).stages;
        const count = perBucket.reduce((sum, c) => sum + c, 0);
        expect(figures?.count).toBe(count);
        if (count === 0) return expect(figures?.p99AtMostMs).toBeNull();
        const index = BOUNDS.findIndex((_, i) => perBucket.slice(0, i + 1).reduce((sum, c) => sum + c, 0) >= 0.99 * count);
        if (BOUNDS[index] === '+Inf') expect(figures?.p99AtMostMs).toBeNull();
        else expect(figures?.p99AtMostMs).toBeCloseTo(Number(BOUNDS[index]) * 1000, 9);
        expect(figures?.over10ms).toBe(perBucket.slice(4).reduce((sum, c) => sum + c, 0));
      }),
    );
  });
});
