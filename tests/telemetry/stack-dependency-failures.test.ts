import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { TestClient, type Frame } from '@chat/gateway/testing';
import { InMemorySpanExporter, METRIC_CATALOGUE, SpanStatusCode, startTelemetry, type Telemetry } from '@chat/telemetry';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { startStack, type Stack } from '../support/stack.ts';

const describe = await describeWithServices(POSTGRES, REDIS, NATS);

/** The sum of one series' samples whose lines carry every `key="value"` given. */
function total(text: string, name: string, labels: Record<string, string>): number {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

// Readiness turning false and back while Redis or NATS is cut is proven by
// tests/contract/failure.test.ts; this file checks what the metrics and traces say about it.
// The tracer and meter providers are process-wide: one telemetry start for the file, before the stack.
describe('a Redis outage seen in the dependency metrics and traces', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let stack: Stack;

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'stack', instanceId: `failures-${randomUUID()}`, spanExporter: exporter });
    stack = await startStack('services', { proxies: true });
  }, 30_000);

  afterAll(async () => {
    await stack.stop();
    await telemetry.shutdown();
  }, 30_000);

  it('counts failed Redis calls and marks their spans failed, and records ok calls again once Redis is back', async () => {
    const alice = randomUUID();
    const admin = await stack.token(randomUUID(), { admin: true });
    const created = await fetch(`${stack.apiUrl}/api/chat/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'failures', members: [alice] }),
    });
    expect(created.status).toBe(201);
    const { id: sessionId } = (await created.json()) as { id: string };
    const client = new TestClient(`${stack.gatewayUrls[0].replace(/^http/, 'ws')}/ws/chat/${sessionId}?token=${await stack.token(alice)}`);
    await client.nextOfType('welcome');
    const send = async (clientMsgId: string): Promise<Frame> => {
      client.send({ type: 'send', clientMsgId, body: 'during an outage' });
      return client.next((frame: Frame) => frame['clientMsgId'] === clientMsgId && (frame['type'] === 'ack' || frame['type'] === 'error'), 20_000);
    };
    const { name: failures } = METRIC_CATALOGUE.dependencyFailures;
    const before = total(await telemetry.renderMetrics(), failures, { dependency: 'redis', operation: 'reserve' });

    await stack.proxies?.redis.cut({ stopListening: true });
    expect(await send(randomUUID())).toMatchObject({ type: 'error', code: 'unavailable' });
    const during = await telemetry.renderMetrics();
    expect(total(during, failures, { dependency: 'redis', operation: 'reserve' })).toBeGreaterThan(before);
    expect(
      total(during, `${METRIC_CATALOGUE.dependencyCallDuration.name}_count`, { dependency: 'redis', operation: 'reserve', outcome: 'error' }),
    ).toBeGreaterThan(0);
    const failedSpan = exporter.getFinishedSpans().find((span) => span.name === 'redis reserve' && span.status.code === SpanStatusCode.ERROR);
    expect(failedSpan?.attributes).toMatchObject({ 'db.system.name': 'redis', 'db.operation.name': 'reserve' });

    await stack.proxies?.redis.start();
    const okBefore = total(during, `${METRIC_CATALOGUE.dependencyCallDuration.name}_count`, { dependency: 'redis', operation: 'reserve', outcome: 'ok' });
    let answer: Frame | undefined;
    for (let attempt = 0; attempt < 50 && answer?.['type'] !== 'ack'; attempt++) {
      answer = await send(randomUUID());
      if (answer['type'] !== 'ack') await sleep(200);
    }
    expect(answer).toMatchObject({ type: 'ack' });
    const after = await telemetry.renderMetrics();
    expect(total(after, `${METRIC_CATALOGUE.dependencyCallDuration.name}_count`, { dependency: 'redis', operation: 'reserve', outcome: 'ok' })).toBeGreaterThan(okBefore);
    client.close();
  }, 60_000);
});
