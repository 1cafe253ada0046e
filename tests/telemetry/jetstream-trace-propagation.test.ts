import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { jetstream, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import {
  InMemorySpanExporter,
  injectTraceHeaders,
  startSpanFromHeaders,
  startTelemetry,
  withExtractedContext,
  withSpan,
  type Telemetry,
} from '@chat/telemetry';
import { describeWithServices, NATS, TEST_NATS_URL } from '../support/services.ts';

const describe = await describeWithServices(NATS);

describe('trace context carried in JetStream message headers', () => {
  const exporter = new InMemorySpanExporter();
  const id = randomUUID().replaceAll('-', '');
  const stream = `TELEMETRY_TEST_${id}`;
  const subject = `telemetry-test.${id}.messages`;
  let telemetry: Telemetry;
  let nc: NatsConnection;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    telemetry = startTelemetry({ serviceName: 'gateway', instanceId: `trace-test-${id}`, spanExporter: exporter });
    nc = await connect({ servers: TEST_NATS_URL });
    jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.Memory, max_age: 60_000_000_000 });
  });
  afterAll(async () => {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
    await telemetry.shutdown();
  });

  it("makes the persister's write span a child of the gateway's send span", async () => {
    const js = jetstream(nc);
    const body = JSON.stringify({ id: randomUUID(), body: 'hello' });

    await withSpan('send', async () => {
      const headers = natsHeaders();
      for (const [key, value] of Object.entries(injectTraceHeaders())) headers.set(key, value);
      await js.publish(subject, body, { headers });
    });

    const consumer = await js.consumers.get(stream);
    const message = await consumer.next({ expires: 5_000 });
    expect(message).not.toBeNull();
    const received = message!.headers!;

    // Per message, as a batching consumer does: a span from the raw NATS headers...
    startSpanFromHeaders('persist message', received).end();
    // ...and the same headers copied into a plain record, as the queue port hands them over.
    const record = Object.fromEntries([...received.keys()].map((key) => [key, received.get(key)]));
    await withExtractedContext(record, () => withSpan('persist batch', () => Promise.resolve()));

    const spans = exporter.getFinishedSpans();
    const send = spans.find((span) => span.name === 'send')!;
    for (const name of ['persist message', 'persist batch']) {
      const child = spans.find((span) => span.name === name)!;
      expect(child.spanContext().traceId).toBe(send.spanContext().traceId);
      expect(child.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    }
  });
});
