import { describe, it, expect } from '@jest/globals';
import { findProblems } from '../result.ts';
import { SCENARIOS } from '../profile.ts';
import { benchResultFixture as fixture, latency } from '../testing/result-fixture.ts';
import { renderDocsPage } from './docs-page.ts';
import { renderFanoutChart } from './fanout-chart.ts';
import { renderSummary } from './summary.ts';

describe('the report', () => {
  it('finds nothing wrong with a whole result', () => {
    expect(findProblems(fixture(), SCENARIOS)).toEqual([]);
  });

  it('names what is missing or malformed in a broken one', () => {
    const broken = fixture();
    delete broken.scenarios.history;
    broken.scenarios.fanout!.chat.steps[0]!.latency = { ...latency(5), p50: 50 };
    const problems = findProblems(broken, SCENARIOS);
    expect(problems).toContain('history: no result');
    expect(problems).toContain('fanout chat step 0 latency: percentiles out of order');
  });

  it('sets each target against its measured figure without asserting it', () => {
    const byName = Object.fromEntries(fixture().targets.map((t) => [t.name, t]));
    expect(byName['fan-out vs Socket.IO']).toMatchObject({ measured: '6×', met: true });
    expect(byName['fan-out per gateway']).toMatchObject({ measured: '30,000', met: false });
    expect(byName['ack p99 at 1,000 sends/s']).toMatchObject({ measured: '4 ms', met: true });
    expect(byName['idle connections on one gateway']).toMatchObject({ met: false });
    expect(byName['seed: errors (first fan-out step)']).toMatchObject({ measured: '0.000 %', met: true });
  });

  it('draws latency against rate for both systems, with the p99 limit', () => {
    const svg = renderFanoutChart(fixture());
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    expect(svg).toContain('p99 limit 100 ms');
    expect(svg).toContain('Socket.IO + redis-adapter ×2');
  });

  it('writes the value of a point beyond the latency axis beside it', () => {
    const result = fixture();
    result.scenarios.fanout!.chat.steps[2]!.latency = latency(1500);
    expect(renderFanoutChart(result)).toContain('p99 1500 ms ↑');
  });

  it('writes a summary and a docs page with the machine, the command and the chart', () => {
    const result = fixture();
    expect(renderSummary(result)).toContain('**Ours ÷ Socket.IO: 6×**');
    const page = renderDocsPage(result);
    expect(page).toContain('`pnpm bench`');
    expect(page).toContain('2 × cpu');
    expect(page).toContain('![latency against rate](benchmarks-fanout.svg)');
  });
});
