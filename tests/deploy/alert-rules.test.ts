import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect } from '@jest/globals';
import { catalogueSeriesNames } from '@chat/telemetry';
import { parse } from 'yaml';
import { metricNames, PROMETHEUS_SERIES } from '../telemetry/dashboard-queries.ts';
import { prometheusBinaryAvailable } from '../support/prometheus-tools.ts';

const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'deploy', 'prometheus');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (parse(readFileSync(join(dir, 'alerts.yml'), 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
const runbook = readFileSync(join(root, 'docs', 'runbook.md'), 'utf8');
/** GitHub's heading anchors: lower case, spaces to dashes, punctuation dropped. */
const anchors = new Set(
  [...runbook.matchAll(/^#+ (.+)$/gm)].map(([, heading]) => heading!.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')),
);

const promtool = prometheusBinaryAvailable('promtool');
const run = (args: string[]) => execFileSync(promtool!, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

(promtool === undefined ? describe.skip : describe)('the alert rules under promtool', () => {
  it('load from prometheus.yml, which names both rules files', () => {
    expect(run(['check', 'config', 'prometheus.yml'])).toMatch(/SUCCESS: 2 rule files found/);
  });

  it('pass their unit tests: each fires above its threshold after its wait, and stays quiet below', () => {
    expect(run(['test', 'rules', 'alerts.test.yml'])).toMatch(/SUCCESS/);
  });
});

describe('the alert rules', () => {
  it('cover every trigger of the rollback plan, and the pipeline', () => {
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'ChatErrorRateHigh',
        'ChatLatencyHigh',
        'ChatMemoryHigh',
        'ChatProcessCpuHigh',
        'ChatGatewayCpuHigh',
        'ChatPersisterLagHigh',
        'ChatConsumerPendingHigh',
      ]),
    );
  });

  it('query only metrics that are in the catalogue (or that Prometheus makes itself)', () => {
    const known = catalogueSeriesNames();
    const unknown = rules.flatMap((rule) => metricNames(rule.expr)).filter((name) => !known.has(name) && !PROMETHEUS_SERIES.has(name));
    expect(unknown).toEqual([]);
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('%s has a severity, a wait and a runbook section that exists', (name, rule) => {
    expect(['page', 'warning']).toContain(rule.labels?.['severity']);
    expect(rule.for).toMatch(/^\d+m$/);
    expect(rule.annotations?.['runbook']).toBe(`docs/runbook.md#${name.toLowerCase()}`);
    expect(anchors.has(name.toLowerCase())).toBe(true);
  });

  it.each(rules.map((rule) => [rule.alert, rule] as const))('%s is unit-tested in alerts.test.yml', (name) => {
    expect(readFileSync(join(dir, 'alerts.test.yml'), 'utf8')).toContain(`alertname: ${name}\n`);
  });
});
