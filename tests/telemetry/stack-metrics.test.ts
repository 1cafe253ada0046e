import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { connect as connectTcp, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { signToken } from '@chat/auth';
import { RedisBus } from '@chat/redis';
import { createDatabase, migrateToLatest } from '@chat/db';
import { TestClient, type Frame } from '@chat/gateway/testing';
import { METRIC_CATALOGUE, type MetricKey } from '@chat/telemetry';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { onFreePort } from '../support/ports.ts';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_DATABASE_URL, TEST_NATS_URL, TEST_REDIS_URL } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

const describe = await describeWithServices(POSTGRES, REDIS, NATS);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Service = 'gateway' | 'session-api' | 'persister';

/**
 * Which catalogue metrics each service records. `traffic` ones must move under ordinary chat
 * traffic (a reader too slow for its buffer included); `onEvent` ones count something this
 * test does not cause, a failing dependency, which stack-dependency-failures.test.ts covers.
 * Every catalogue entry is placed for every service, so a new metric cannot go unchecked.
 */
const RUNTIME: MetricKey[] = ['eventLoopLag', 'heapUsed', 'heapTotal', 'residentMemory', 'memoryLimit', 'processCpu'];
const DEPENDENCY: MetricKey[] = ['dependencyCallDuration'];
const EXPECTED: Record<Service, { traffic: MetricKey[]; onEvent: MetricKey[] }> = {
  gateway: {
    traffic: [
      'connectionsOpen', 'connects', 'disconnects', 'framesIn', 'framesOut', 'messagesAccepted', 'errors',
      'sendAckLatency', 'fanoutDeliveryLatency', 'rateLimitHits', 'slowConsumerCutoffs', ...DEPENDENCY, ...RUNTIME,
    ],
    onEvent: ['dependencyFailures'],
  },
  'session-api': {
    traffic: ['httpRequests', 'httpRequestDuration', 'messagesAccepted', 'sendAckLatency', 'errors', 'rateLimitHits', ...DEPENDENCY, ...RUNTIME],
    onEvent: ['dependencyFailures'],
  },
  persister: {
    traffic: ['persisterBatchSize', 'messagesPersisted', 'persistLag', 'persisterPending', ...DEPENDENCY, ...RUNTIME],
    // Dead letters need a message the store refuses: tests/persister/dead-letters.test.ts makes one.
    onEvent: ['dependencyFailures', 'deadLetters', 'deadLettersOpen'],
  },
};

const WS_SENDS = 6;
const REST_POSTS = 3;
const BURST = 10;
const SLOW_CONSUMER_BYTES = 256 * 1024;

/** A WebSocket client that completes the upgrade, then stops reading; resolves with its welcome seq. */
async function stalledClient(port: number, path: string): Promise<{ socket: Socket; seq: number }> {
  const socket = connectTcp(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', () => resolve()).once('error', reject));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const seq = await new Promise<number>((resolve) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      const welcome = /"type":"welcome"[^}]*"seq":(\d+)/.exec(seen);
      if (welcome === null) return;
      socket.off('data', onData);
      socket.pause();
      resolve(Number(welcome[1]));
    };
    socket.on('data', onData);
  });
  return { socket, seq };
}

/** A condition that cannot be read yet (the service is still starting) counts as not met. */
const until = (what: string, condition: () => Promise<boolean>, timeoutMs: number) => waitFor(what, () => condition().catch(() => false), timeoutMs);

/** One Prometheus sample line: the series name, its labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseSamples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
      if (match === null) return [];
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
      return [{ name: match[1] ?? '', labels, value: Number(match[3]) }];
    });
}

/** The sum of a series over the samples whose labels include `where`. */
function total(samples: readonly Sample[], name: string, where: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(where).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** The series that shows a metric has data: the counter/gauge itself, or a histogram's count. */
function seriesOf(key: MetricKey): string {
  const spec = METRIC_CATALOGUE[key];
  return spec.kind === 'histogram' ? `${spec.name}_count` : spec.name;
}

describe('metrics of the three services after real traffic', () => {
  const run = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('hex');
  const children: ChildProcess[] = [];
  const stderr = new Map<ChildProcess, string>();
  const ports = { gateway: 0, 'session-api': 0, persister: 0 };
  const names = { stream: `TELEMETRY_${run}`, subjectPrefix: `telemetry.${run}`, consumer: `telemetry_${run}` };
  const scraped = new Map<Service, Sample[]>();
  let sessionId = '';

  const base = (service: Service) => `http://127.0.0.1:${ports[service]}`;
  const scrape = async (service: Service) => parseSamples(await (await fetch(`${base(service)}/metrics`)).text());

  function spawnService(service: Service, script: string, env: Record<string, string>): ChildProcess {
    const child = spawn(process.execPath, [script], {
      cwd: ROOT,
      env: {
        PATH: process.env['PATH'] ?? '',
        NODE_ENV: 'test',
        JWT_SECRET: secret,
        HOST: '127.0.0.1',
        REDIS_URL: TEST_REDIS_URL,
        NATS_URL: TEST_NATS_URL,
        DATABASE_URL: TEST_DATABASE_URL,
        NATS_STREAM: names.stream,
        NATS_SUBJECT_PREFIX: names.subjectPrefix,
        NATS_CONSUMER: names.consumer,
        INSTANCE_ID: `${service}-${run}`,
        RATE_LIMIT_PER_SEC: '1',
        RATE_LIMIT_BURST: String(BURST),
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    stderr.set(child, '');
    child.stderr.on('data', (chunk: Buffer) => stderr.set(child, `${stderr.get(child) ?? ''}${chunk.toString()}`));
    child.once('exit', (code, signal) => {
      if (signal === null && code !== 0) console.error(`${service} exited with ${String(code)}: ${stderr.get(child) ?? ''}`);
    });
    children.push(child);
    return child;
  }

  /** Starts a service on a free port and waits for its readiness; on another port if that one was taken first. */
  async function start(service: Service, script: string, portVariable: string, env: Record<string, string> = {}): Promise<void> {
    ports[service] = await onFreePort(async (port) => {
      const child = spawnService(service, script, { [portVariable]: String(port), ...env });
      const closed = new Promise<never>((_, reject) =>
        child.once('close', (code) => reject(new Error(`${service} exited with ${String(code)} during start-up: ${stderr.get(child) ?? ''}`))),
      );
      // Start-up alone takes tens of seconds on a busy machine; it is not what is tested here.
      await Promise.race([until(`${service} readiness`, async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 60_000), closed]);
      return port;
    });
  }

  async function api(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${base('session-api')}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
  }

  async function chat(userId: string): Promise<TestClient> {
    const client = new TestClient(`ws://127.0.0.1:${ports.gateway}/ws/chat/${sessionId}?token=${await signToken(secret, { userId })}`);
    await client.nextOfType('welcome');
    return client;
  }

  beforeAll(async () => {
    const db = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    await Promise.all([
      start('gateway', 'services/gateway/src/main.ts', 'GATEWAY_PORT', { SLOW_CONSUMER_BYTES: String(SLOW_CONSUMER_BYTES) }),
      start('session-api', 'services/session-api/src/main.ts', 'API_PORT'),
      start('persister', 'services/persister/src/main.ts', 'PERSISTER_PORT'),
    ]);

    const alice = randomUUID();
    const bob = randomUUID();
    const created = await api('POST', '/api/chat/sessions', await signToken(secret, { userId: randomUUID(), admin: true }), { title: 'metrics', members: [alice, bob] });
    expect(created.status).toBe(201);
    sessionId = (created.body as { id: string }).id;

    // WebSocket traffic: sends acknowledged and fanned out to the other member.
    const sender = await chat(alice);
    const receiver = await chat(bob);
    for (let n = 0; n < WS_SENDS; n++) {
      sender.send({ type: 'send', clientMsgId: `ws-${n}`, body: `hello ${n}` });
      await sender.next((frame: Frame) => frame['type'] === 'ack' && frame['clientMsgId'] === `ws-${n}`);
    }
    await receiver.take('message', WS_SENDS);
    sender.send('not json');
    await sender.nextOfType('error');
    // Past the burst with a refill of one a second: the limiter refuses some.
    for (let n = 0; n < BURST + 5; n++) sender.send({ type: 'send', clientMsgId: `flood-${n}`, body: 'flood' });
    await sender.next((frame: Frame) => frame['type'] === 'error' && frame['code'] === 'rate_limited');
    receiver.close();

    // REST traffic from the other member, then a read of the history and a refusal.
    const bobToken = await signToken(secret, { userId: bob });
    for (let n = 0; n < REST_POSTS; n++) {
      expect((await api('POST', `/api/chat/sessions/${sessionId}/messages`, bobToken, { clientMsgId: `rest-${n}`, body: `hi ${n}` })).status).toBe(201);
    }
    expect((await api('GET', `/api/chat/history/${sessionId}`, bobToken)).status).toBe(200);
    expect((await api('GET', `/api/chat/history/${randomUUID()}`, bobToken)).status).toBe(404);
    let refused = false;
    for (let n = 0; n < BURST + 5 && !refused; n++) {
      refused = (await api('POST', `/api/chat/sessions/${sessionId}/messages`, bobToken, { body: 'flood' })).status === 429;
    }
    expect(refused).toBe(true);

    await until(
      'the persister to store the traffic',
      async () => total(await scrape('persister'), METRIC_CATALOGUE.messagesPersisted.name) >= WS_SENDS + REST_POSTS,
      20_000,
    );
    sender.close();

    // A member that stops reading while large messages fan out to it is cut off. The messages go
    // straight onto the session's bus channel, as another replica's fan-out would put them.
    const stalled = await stalledClient(ports.gateway, `/ws/chat/${sessionId}?token=${await signToken(secret, { userId: alice })}`);
    const bus = new RedisBus({ url: TEST_REDIS_URL, connectionName: `telemetry-test-${run}` });
    try {
      const body = 'x'.repeat(4000);
      const cutOff = async () => total(await scrape('gateway'), METRIC_CATALOGUE.slowConsumerCutoffs.name) >= 1;
      for (let sent = 1; sent <= 4000; sent++) {
        const message = { type: 'message', id: randomUUID(), sessionId, seq: stalled.seq + sent, userId: alice, body, metadata: {}, timestamp: new Date().toISOString() };
        await bus.publish(sessionId, JSON.stringify(message));
        if (sent % 200 === 0 && (await cutOff())) break;
      }
      await until('the slow reader to be cut off', cutOff, 10_000);
    } finally {
      stalled.socket.destroy();
      await bus.close();
    }
    await until(
      'the disconnects to be counted',
      async () => {
        const samples = await scrape('gateway');
        return total(samples, METRIC_CATALOGUE.disconnects.name) >= 3 && total(samples, METRIC_CATALOGUE.connectionsOpen.name) === 0;
      },
      10_000,
    );
    // The pending gauge is refreshed every few seconds; the event-loop gauge after its first interval.
    await until('the pending gauge', async () => (await scrape('persister')).some((s) => s.name === METRIC_CATALOGUE.persisterPending.name), 15_000);
    for (const service of ['gateway', 'session-api', 'persister'] as const) scraped.set(service, await scrape(service));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    const nc = await connect({ servers: TEST_NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(names.stream).catch(() => false);
    await nc.close();
  }, 30_000);

  it('places every catalogue metric for every service', () => {
    for (const { traffic, onEvent } of Object.values(EXPECTED)) {
      expect(new Set([...traffic, ...onEvent]).size).toBe(traffic.length + onEvent.length);
    }
    const placed = new Set(Object.values(EXPECTED).flatMap(({ traffic, onEvent }) => [...traffic, ...onEvent]));
    expect([...placed].sort()).toEqual(Object.keys(METRIC_CATALOGUE).sort());
  });

  it.each(['gateway', 'session-api', 'persister'] as const)('%s exposes every metric that traffic moves', (service) => {
    const samples = scraped.get(service) ?? [];
    const missing = EXPECTED[service].traffic.filter((key) => !samples.some((sample) => sample.name === seriesOf(key)));
    expect(missing).toEqual([]);
    for (const sample of samples.filter((s) => s.name.startsWith('chat_'))) {
      expect(sample.labels).toMatchObject({ service_name: service, service_instance_id: `${service}-${run}` });
    }
  });

  it('counts the WebSocket traffic on the gateway', () => {
    const samples = scraped.get('gateway') ?? [];
    const c = METRIC_CATALOGUE;
    expect(total(samples, c.connects.name, { route: 'chat' })).toBeGreaterThanOrEqual(3);
    expect(total(samples, c.disconnects.name, { route: 'chat' })).toBeGreaterThanOrEqual(3);
    expect(total(samples, c.connectionsOpen.name, { route: 'chat' })).toBe(0);
    expect(total(samples, c.framesIn.name, { type: 'send' })).toBeGreaterThanOrEqual(WS_SENDS);
    expect(total(samples, c.framesIn.name, { type: 'invalid' })).toBe(1);
    expect(total(samples, c.framesOut.name, { type: 'ack' })).toBeGreaterThanOrEqual(WS_SENDS);
    expect(total(samples, c.framesOut.name, { type: 'message' })).toBeGreaterThanOrEqual(WS_SENDS);
    expect(total(samples, c.messagesAccepted.name, { transport: 'ws' })).toBeGreaterThanOrEqual(WS_SENDS);
    expect(total(samples, `${c.sendAckLatency.name}_count`, { transport: 'ws' })).toBeGreaterThanOrEqual(WS_SENDS);
    expect(total(samples, `${c.fanoutDeliveryLatency.name}_count`)).toBeGreaterThanOrEqual(WS_SENDS);
    expect(total(samples, c.rateLimitHits.name, { transport: 'ws' })).toBeGreaterThanOrEqual(1);
    expect(total(samples, c.errors.name)).toBeGreaterThanOrEqual(2);
    expect(total(samples, c.slowConsumerCutoffs.name)).toBe(1);
  });

  it('counts the REST traffic on the session-api', () => {
    const samples = scraped.get('session-api') ?? [];
    const c = METRIC_CATALOGUE;
    expect(total(samples, c.messagesAccepted.name, { transport: 'rest' })).toBeGreaterThanOrEqual(REST_POSTS);
    expect(total(samples, `${c.sendAckLatency.name}_count`, { transport: 'rest' })).toBeGreaterThanOrEqual(REST_POSTS);
    expect(total(samples, c.httpRequests.name, { method: 'POST', route: '/api/chat/sessions/:session_id/messages', status: '201' })).toBeGreaterThanOrEqual(REST_POSTS);
    expect(total(samples, c.httpRequests.name, { method: 'GET', route: '/api/chat/history/:session_id', status: '404' })).toBe(1);
    expect(total(samples, c.rateLimitHits.name, { transport: 'rest' })).toBeGreaterThanOrEqual(1);
    expect(total(samples, c.errors.name, { code: 'not_found' })).toBeGreaterThanOrEqual(1);
  });

  it('counts the persisted messages on the persister', () => {
    const samples = scraped.get('persister') ?? [];
    const c = METRIC_CATALOGUE;
    expect(total(samples, c.messagesPersisted.name)).toBeGreaterThanOrEqual(WS_SENDS + REST_POSTS);
    expect(total(samples, `${c.persisterBatchSize.name}_sum`)).toBeGreaterThanOrEqual(WS_SENDS + REST_POSTS);
    expect(total(samples, `${c.persistLag.name}_count`)).toBeGreaterThanOrEqual(WS_SENDS + REST_POSTS);
  });

  it('times the Redis, NATS and PostgreSQL calls each service makes', () => {
    const calls = (service: Service, dependency: string, operation: string) =>
      total(scraped.get(service) ?? [], `${METRIC_CATALOGUE.dependencyCallDuration.name}_count`, { dependency, operation, outcome: 'ok' });
    for (const service of ['gateway', 'session-api'] as const) {
      expect(calls(service, 'redis', 'reserve')).toBeGreaterThan(0);
      expect(calls(service, 'redis', 'commit')).toBeGreaterThan(0);
      expect(calls(service, 'nats', 'publish')).toBeGreaterThan(0);
    }
    // The gateway's presence events leave from its presence scripts, as its commits do: its own publishes are the session-api's kind only.
    expect(calls('gateway', 'redis', 'presence_join_member')).toBeGreaterThan(0);
    expect(calls('session-api', 'redis', 'publish')).toBeGreaterThan(0);
    expect(calls('gateway', 'nats', 'publish')).toBeGreaterThanOrEqual(WS_SENDS);
    expect(calls('session-api', 'nats', 'publish')).toBeGreaterThanOrEqual(REST_POSTS);
    expect(calls('session-api', 'postgres', 'history_with_reads')).toBeGreaterThan(0);
    expect(calls('persister', 'postgres', 'insert_messages')).toBeGreaterThan(0);
  });
});
