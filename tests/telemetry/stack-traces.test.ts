import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { TestClient, type Frame } from '@chat/gateway/testing';
import { InMemorySpanExporter, startTelemetry, type ReadableSpan, type Telemetry } from '@chat/telemetry';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { eventually } from '../support/wait.ts';

const describe = await describeWithServices(POSTGRES, REDIS, NATS);

/** The chain of spans from `span` up to its trace's root, as far as this process recorded them. */
function ancestors(span: ReadableSpan, spans: readonly ReadableSpan[]): ReadableSpan[] {
  const chain: ReadableSpan[] = [];
  let parentId = span.parentSpanContext?.spanId;
  while (parentId !== undefined) {
    const parent = spans.find((candidate) => candidate.spanContext().spanId === parentId);
    if (parent === undefined) break;
    chain.push(parent);
    parentId = parent.parentSpanContext?.spanId;
  }
  return chain;
}


// The tracer provider is process-wide: one telemetry start for the whole file, before the stack.
describe('a message traced from the gateway to the persister through JetStream', () => {
  const exporter = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let stack: Stack;
  let sessionId: string;
  const alice = randomUUID();

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'stack', instanceId: `traces-${randomUUID()}`, spanExporter: exporter });
    stack = await startStack('services');
    const admin = await stack.token(randomUUID(), { admin: true });
    const response = await fetch(`${stack.apiUrl}/api/chat/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'traces', members: [alice] }),
    });
    expect(response.status).toBe(201);
    sessionId = ((await response.json()) as { id: string }).id;
  }, 30_000);

  afterAll(async () => {
    await stack.stop();
    await telemetry.shutdown();
  }, 30_000);

  /** The `persist` spans whose message came from the span `spanId`, directly or not. */
  function persistSpansUnder(spanId: string): ReadableSpan[] {
    const spans = exporter.getFinishedSpans();
    return spans.filter((span) => span.name === 'persist' && ancestors(span, spans).some((a) => a.spanContext().spanId === spanId));
  }

  it("makes the persister's span a descendant of the gateway's send span, in the same trace", async () => {
    const client = new TestClient(`${stack.gatewayUrls[0].replace(/^http/, 'ws')}/ws/chat/${sessionId}?token=${await stack.token(alice)}`);
    await client.nextOfType('welcome');
    const clientMsgId = randomUUID();
    client.send({ type: 'send', clientMsgId, body: 'traced' });
    const ack = await client.next((frame: Frame) => frame['type'] === 'ack' && frame['clientMsgId'] === clientMsgId);
    client.close();

    const send = await eventually('the send span', () =>
      exporter.getFinishedSpans().find((span) => span.name === 'send' && span.attributes['chat.session_id'] === sessionId),
    );
    const [persist] = await eventually('the persist span', () => {
      const found = persistSpansUnder(send.spanContext().spanId);
      return found.length > 0 ? found : undefined;
    });
    expect(persist?.spanContext().traceId).toBe(send.spanContext().traceId);
    // The message's own span is a direct child: the queue headers carried the send span itself.
    expect(persist?.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect((await stack.store.history(sessionId, { limit: 10 })).messages.map((m) => m.id)).toContain(ack['id']);

    // Under the send span, the Redis and NATS calls that made the message durable.
    const spans = exporter.getFinishedSpans();
    const underSend = spans.filter((span) => span.parentSpanContext?.spanId === send.spanContext().spanId).map((span) => span.name);
    expect(underSend).toEqual(expect.arrayContaining(['redis reserve', 'nats publish', 'redis commit', 'persist']));

    // The batch span links to the message's trace and holds the PostgreSQL insert.
    const batch = spans.find(
      (span) => span.name === 'persist batch' && span.links.some((link) => link.context.spanId === send.spanContext().spanId),
    );
    expect(batch).toBeDefined();
    const insert = spans.find((span) => span.name === 'postgres insert_messages' && span.parentSpanContext?.spanId === batch?.spanContext().spanId);
    expect(insert).toBeDefined();
  }, 30_000);

  it("makes the persister's span a descendant of the REST request's span", async () => {
    const response = await fetch(`${stack.apiUrl}/api/chat/sessions/${sessionId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.token(alice)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'traced over REST' }),
    });
    expect(response.status).toBe(201);
    const request = await eventually('the request span', () =>
      exporter
        .getFinishedSpans()
        .find((span) => span.attributes['http.route'] === '/api/chat/sessions/:session_id/messages' && span.attributes['url.path'] === `/api/chat/sessions/${sessionId}/messages`),
    );
    const [persist] = await eventually('the persist span', () => {
      const found = persistSpansUnder(request.spanContext().spanId);
      return found.length > 0 ? found : undefined;
    });
    expect(persist?.spanContext().traceId).toBe(request.spanContext().traceId);
  }, 30_000);
});
