import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { catalogueSeriesNames, startTelemetry, type Telemetry } from '@chat/telemetry';
import { parse } from 'yaml';
import { dashboardFiles, dashboardQueries, exposedSeries, metricNames, PROMETHEUS_SERIES } from './dashboard-queries.ts';

const root = join(import.meta.dirname, '..', '..');
const queries = dashboardFiles().flatMap((file) => dashboardQueries(file));
const usedNames = [...new Set(queries.flatMap((query) => metricNames(query.expr)))].sort();

describe('metricNames', () => {
  it('finds the metrics of an expression and skips functions, labels, ranges and groupings', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, route) (rate(chat_x_seconds_bucket{job="gateway"}[$__rate_interval])))')).toEqual(['chat_x_seconds_bucket']);
    expect(metricNames('sum(rate(a_total[5m])) / on (job) sum(b_total) or vector(0)')).toEqual(['a_total', 'b_total']);
  });
});

describe('the Grafana dashboards', () => {
  it('exist and hold queries', () => {
    expect(dashboardFiles().length).toBeGreaterThan(0);
    expect(queries.length).toBeGreaterThan(10);
  });

  it.each(dashboardFiles())('%s parses, has a stable uid and uses the provisioned data source', (file) => {
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { uid?: string; panels: { datasource?: { uid?: string }; type: string }[] };
    expect(dashboard.uid).toMatch(/^[a-z0-9-]+$/);
    const datasources = parse(readFileSync(join(root, 'deploy/grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as { datasources: { uid: string }[] };
    const provisioned = datasources.datasources.map((source) => source.uid);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) expect(provisioned).toContain(panel.datasource?.uid);
  });

  it('queries only metrics that are in the catalogue (or that Prometheus makes itself)', () => {
    const known = catalogueSeriesNames();
    const unknown = usedNames.filter((name) => !known.has(name) && !PROMETHEUS_SERIES.has(name));
    expect(unknown).toEqual([]);
  });

  it('covers traffic, latency, errors, connections, persister lag and dependency health', () => {
    for (const name of [
      'chat_messages_accepted_total',
      'chat_send_ack_latency_seconds_bucket',
      'chat_fanout_delivery_latency_seconds_bucket',
      'chat_errors_total',
      'chat_connections_open',
      'chat_persist_lag_seconds_bucket',
      'chat_persister_pending',
      'chat_dependency_call_duration_seconds_bucket',
      'chat_dependency_failures_total',
      'chat_eventloop_lag_seconds',
      'chat_heap_used_bytes',
    ]) {
      expect(usedNames).toContain(name);
    }
  });
});

describe('a scrape of the telemetry library', () => {
  let telemetry: Telemetry;
  beforeAll(() => {
    telemetry = startTelemetry({ serviceName: 'dashboard-check', instanceId: 'dashboard-check-1' });
  });
  afterAll(() => telemetry.shutdown());

  it('exposes every series the dashboards query once each metric has been recorded', async () => {
    const m = telemetry.metrics;
    m.connectionsOpen.add(1, { route: 'chat' });
    m.connects.add(1, { route: 'chat' });
    m.disconnects.add(1, { route: 'chat', code: 1000 });
    m.framesIn.add(1, { type: 'send' });
    m.framesOut.add(1, { type: 'ack' });
    m.messagesAccepted.add(1, { transport: 'rest' });
    m.errors.add(1, { code: 'forbidden' });
    m.sendAckLatency.record(0.01, { transport: 'rest' });
    m.fanoutDeliveryLatency.record(0.01);
    m.slowConsumerCutoffs.add(1);
    m.rateLimitHits.add(1, { transport: 'ws' });
    m.dependencyCallDuration.record(0.001, { dependency: 'postgres', operation: 'insert_messages', outcome: 'ok' });
    m.dependencyFailures.add(1, { dependency: 'postgres', operation: 'insert_messages' });
    m.persisterBatchSize.record(10);
    m.messagesPersisted.add(10);
    m.persistLag.record(0.2);
    m.persisterPending.record(0);
    m.httpRequests.add(1, { method: 'GET', route: '/api/chat/sessions/:id', status: 200 });
    m.httpRequestDuration.record(0.002, { method: 'GET', route: '/api/chat/sessions/:id', status: 200 });
    // The event-loop histogram needs at least one sample (10 ms resolution).
    await new Promise((resolve) => setTimeout(resolve, 30));

    const exposed = exposedSeries(await telemetry.renderMetrics());
    const missing = usedNames.filter((name) => !PROMETHEUS_SERIES.has(name) && !exposed.has(name));
    expect(missing).toEqual([]);
  });
});

describe('the Prometheus scrape configuration', () => {
  const config = parse(readFileSync(join(root, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
  };
  const job = (name: string) => config.scrape_configs.find((entry) => entry.job_name === name);

  it.each([
    ['gateway', ['gateway-1:8080', 'gateway-2:8080']],
    ['session-api', ['session-api:8081']],
    ['persister', ['persister:8082']],
  ])('scrapes %s at /metrics on its own port', (name, targets) => {
    const entry = job(name);
    expect(entry?.metrics_path ?? '/metrics').toBe('/metrics');
    expect(entry?.static_configs.flatMap((c) => c.targets)).toEqual(targets);
  });
});

describe('the durability settings', () => {
  it('makes JetStream fsync every write before acknowledging it', () => {
    const conf = readFileSync(join(root, 'deploy/nats/nats.conf'), 'utf8');
    expect(conf).toMatch(/^\s*sync_interval:\s*always\s*$/m);
    expect(conf).toMatch(/^\s*store_dir:\s*\/data\s*$/m);
  });

  it('keeps PostgreSQL commits synchronous', () => {
    expect(readFileSync(join(root, 'deploy/postgres/durability.conf'), 'utf8')).toMatch(/^synchronous_commit = on$/m);
  });
});
