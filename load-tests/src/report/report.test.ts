import { describe, it, expect } from '@jest/globals';
import { findProblems } from '../result.ts';
import { evaluateTargets } from '../targets.ts';
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

  it('names a history result without its session-api CPU reading', () => {
    for (const reading of [Number.NaN, -1, undefined]) {
      const broken = fixture();
      (broken.scenarios.history as { apiUsPerPage?: number }).apiUsPerPage = reading;
      expect(findProblems(broken, SCENARIOS)).toEqual(['history: no session-api CPU sampled']);
    }
  });

  it('shows where our sends spent their time when the gateways reported it, and nothing when they did not', () => {
    const result = fixture();
    expect(renderSummary(result)).not.toContain('Where the time of a send went');
    result.scenarios.steady!.runs[0]!.gatewayStages = {
      stages: [{ stage: 'redis reserve', count: 10_000, over10ms: 120, over25ms: 7, p99AtMostMs: 25 }],
      eventLoop: { p99Ms: 3.2, maxMs: 41 },
    };
    const summary = renderSummary(result);
    expect(summary).toContain('event-loop delay p99 3.2 ms, max 41 ms');
    expect(summary).toContain('| redis reserve | 10,000 | 120 | 7 | 25 |');
  });

  it('sets each goal against its measured figure without asserting it', () => {
    const byName = Object.fromEntries(fixture().targets.map((t) => [t.name, t]));
    expect(byName['fan-out vs Socket.IO, persister running']).toMatchObject({ measured: '4×', met: true });
    expect(byName['fan-out vs Socket.IO, persister stopped']).toMatchObject({ measured: '6×', met: true });
    expect(byName['p99 send → delivery at 1,000 sends/s × 10 members, persister running']).toMatchObject({ measured: '8 ms', met: true });
    expect(byName['CPU per message in persister + NATS + PostgreSQL at 1,000 sends/s']).toMatchObject({ measured: '90 µs', met: true });
    expect(byName['gateway CPU per delivery']).toMatchObject({ measured: '40 µs vs 30 µs (1.33×)', met: false });
    expect(byName['idle RSS per connection, one gateway, 15,000 connections']).toMatchObject({ measured: '5.9 KiB', met: true });
    expect(byName['acked sends/s per gateway at p99 < 100 ms']).toMatchObject({ measured: '1,000', met: false });
    expect(byName['history p99, 50 of 1,000,000 rows']).toMatchObject({ measured: '12 ms', met: true });
    expect(byName['seed: errors (first fan-out step, persister running)']).toMatchObject({ measured: '0.000 %', met: true });
  });

  it('leaves a goal unmeasured when the run was too small to tell it', () => {
    const result = fixture();
    result.scenarios.idle!.gateways[0]!.connections = 60;
    result.scenarios.steady!.sendsPerSec = 30;
    const byName = Object.fromEntries(evaluateTargets(result).map((t) => [t.name, t]));
    expect(byName['idle RSS per connection, one gateway, 15,000 connections']).toMatchObject({ measured: 'not measured', met: null });
    expect(byName['CPU per message in persister + NATS + PostgreSQL at 1,000 sends/s']).toMatchObject({ met: null });
  });

  it('finds a steady run whose CPU was not sampled', () => {
    const result = fixture();
    result.scenarios.steady!.runs[2]!.usPerMessage = {};
    result.scenarios.steady!.runs[0]!.gatewayUsPerDelivery = Number.NaN;
    const problems = findProblems(result, SCENARIOS);
    expect(problems).toContain('steady relay: no redis CPU sampled');
    expect(problems).toContain('steady chat-persisted R1/on: no gateway CPU sampled');
  });

  it('draws latency against rate for both systems, with the p99 limit', () => {
    const svg = renderFanoutChart(fixture());
    expect(svg.match(/<polyline /g)).toHaveLength(8);
    expect(svg).toContain('p99 limit 100 ms');
    expect(svg).toContain('Socket.IO + redis-adapter ×2');
  });

  it('keeps the hand-written section of the current page when it writes the page again', () => {
    const current = '# Benchmarks\n\n## Method\n\nold\n\n## What each change bought\n\n| change | gain |\n|---|---|\n| batching | 3× |\n\n## Latest figures\n\nold figures\n';
    const page = renderDocsPage(fixture(), current);
    expect(page).toContain('## What each change bought\n\n| change | gain |\n|---|---|\n| batching | 3× |\n\n## Latest figures');
    expect(page).not.toContain('old figures');
    expect(renderDocsPage(fixture())).not.toContain('What each change bought');
  });

  it('writes the value of a point beyond the latency axis beside it', () => {
    const result = fixture();
    result.scenarios.fanout!.chat.steps[2]!.latency = latency(1500);
    expect(renderFanoutChart(result)).toContain('p99 1500 ms ↑');
  });

  it('writes a summary and a docs page with the machine, the command and the chart', () => {
    const result = fixture();
    expect(renderSummary(result)).toContain('**Ours ÷ Socket.IO: 4× with the persister running, 6× with it stopped**');
    expect(renderSummary(result)).toContain('| gateway CPU per delivery at 1,000 sends/s × 10 members | 40 µs | 45 µs | 30 µs |');
    const page = renderDocsPage(result);
    expect(page).toContain('`pnpm bench`');
    expect(page).toContain('2 × cpu');
    expect(page).toContain('- Took 10.0 min');
    expect(page).not.toContain('Caveat');
    const busy = fixture();
    busy.machine.loadAverage = { start: 9.5, end: 20 };
    expect(renderSummary(busy)).toContain('**Caveat: other work shared the machine.** A load average of 20 on 2 cores');
    expect(page).toContain('![latency against rate](benchmarks-fanout.svg)');
  });
});
