import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe as jestDescribe, expect, it } from '@jest/globals';
import { signToken } from '@chat/auth';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { parse, stringify } from 'yaml';
import { OwnRedis } from '../support/own-redis.ts';
import { prometheusBinaryAvailable } from '../support/prometheus-tools.ts';
import { createOwnDatabase } from '../support/own-database.ts';
import { describeWithServices, NATS, POSTGRES, TEST_NATS_URL } from '../support/services.ts';

// Ports of this suite's own processes (27000-27999 are this suite's range).
const PROMETHEUS_PORT = 27090;
const API_PORT = 27081;
const REDIS_PORT = 27379;
const root = join(import.meta.dirname, '..', '..');

const describeServices = await describeWithServices(POSTGRES, NATS);
const prometheus = prometheusBinaryAvailable('prometheus');
const describe = prometheus === undefined ? jestDescribe.skip : describeServices;

interface AlertsAnswer {
  data: { alerts: { labels: Record<string, string>; state: string }[] };
}

/**
 * The shipped rules with their `for` cut to one second, so the test waits seconds, not minutes;
 * the expressions are the shipped ones, verbatim.
 */
function rulesWithShortWaits(): string {
  const rules = parse(readFileSync(join(root, 'deploy/prometheus/alerts.yml'), 'utf8')) as { groups: { rules: { for?: string }[] }[] };
  for (const group of rules.groups) for (const rule of group.rules) rule.for = '1s';
  return stringify(rules);
}

describe('a real Prometheus scraping a running session-api', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-prometheus-'));
  const redis = new OwnRedis(REDIS_PORT);
  const secret = randomBytes(32).toString('hex');
  const run = randomBytes(6).toString('hex');
  const children: ChildProcess[] = [];
  const api = `http://127.0.0.1:${API_PORT}`;

  const startChild = (command: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
    children.push(child);
    return child;
  };
  const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await check().catch(() => false)) return;
      await sleep(250);
    }
    throw new Error(`timed out waiting for ${what}`);
  };

  let database: Awaited<ReturnType<typeof createOwnDatabase>> | undefined;

  beforeAll(async () => {
    await redis.start();
    database = await createOwnDatabase('prometheus_alert', { migrate: true });
    writeFileSync(join(dir, 'alerts.yml'), rulesWithShortWaits());
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '1s', scrape_timeout: '900ms', evaluation_interval: '1s' },
        rule_files: ['alerts.yml'],
        scrape_configs: [{ job_name: 'session-api', static_configs: [{ targets: [`127.0.0.1:${API_PORT}`] }] }],
      }),
    );
    startChild(process.execPath, ['services/session-api/src/main.ts'], {
      API_PORT: String(API_PORT),
      HOST: '127.0.0.1',
      JWT_SECRET: secret,
      REDIS_URL: redis.url,
      NATS_URL: TEST_NATS_URL,
      DATABASE_URL: database.url,
      NATS_STREAM: `ALERTS_${run}`,
      NATS_SUBJECT_PREFIX: `alerts.${run}`,
      NATS_CONSUMER: `alerts_${run}`,
      INSTANCE_ID: `alerts-${run}`,
      LOG_LEVEL: 'silent',
      CHAT_BACKEND: 'services',
    });
    startChild(prometheus!, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`,
    ]);
    await waitFor('the session-api to be ready', async () => (await fetch(`${api}/readyz`)).ok, 120_000);
    await waitFor('Prometheus to be ready', async () => (await fetch(`http://127.0.0.1:${PROMETHEUS_PORT}/-/ready`)).ok, 30_000);
  }, 200_000);

  afterAll(async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
    }
    await redis.stop();
    const nc = await connect({ servers: TEST_NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(`ALERTS_${run}`).catch(() => false);
    await nc.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it('fires ChatErrorRateHigh once Redis is gone and posts are answered unavailable', async () => {
    const admin = await signToken(secret, { userId: randomUUID(), admin: true });
    const headers = { authorization: `Bearer ${admin}`, 'content-type': 'application/json' };
    const created = await fetch(`${api}/api/chat/sessions`, { method: 'POST', headers, body: JSON.stringify({ title: 'alerts' }) });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const post = () => fetch(`${api}/api/chat/sessions/${id}/messages`, { method: 'POST', headers, body: JSON.stringify({ body: 'hello' }) });
    expect((await post()).status).toBe(201);

    const alerts = async () =>
      ((await (await fetch(`http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/alerts`)).json()) as AlertsAnswer).data.alerts.filter(
        (alert) => alert.labels['alertname'] === 'ChatErrorRateHigh',
      );
    // Healthy traffic for a few scrapes: nothing fires.
    for (let i = 0; i < 8; i++) {
      expect((await post()).status).toBe(201);
      await sleep(500);
    }
    expect(await alerts()).toEqual([]);

    await redis.stop();
    let firing: Awaited<ReturnType<typeof alerts>> = [];
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && firing.length === 0) {
      const answer = await post();
      expect(answer.status).toBe(503);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('unavailable');
      firing = (await alerts()).filter((alert) => alert.state === 'firing');
      await sleep(300);
    }
    expect(firing).toEqual([
      expect.objectContaining({ state: 'firing', labels: expect.objectContaining({ alertname: 'ChatErrorRateHigh', job: 'session-api', rollback_trigger: 'true' }) }),
    ]);
  }, 120_000);
});
