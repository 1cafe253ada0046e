import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { signToken } from '@chat/auth';
import { createDatabase, KyselyChatStore, migrateToLatest } from '@chat/db';
import { TestClient, type Frame } from '@chat/gateway/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_DATABASE_URL, TEST_NATS_URL, TEST_REDIS_URL } from '../support/services.ts';
import { eventually as eventuallyFound } from '../support/wait.ts';

const describe = await describeWithServices(POSTGRES, REDIS, NATS);

/** One span as an OTLP/HTTP JSON export carries it, with the service that sent it. */
interface ExportedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  attributes: Record<string, unknown>;
  /** The span ids this span links to. */
  links: string[];
}

interface OtlpAttribute {
  key: string;
  value: Record<string, unknown>;
}

interface OtlpExport {
  resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: { name: string; traceId: string; spanId: string; parentSpanId?: string; attributes?: OtlpAttribute[]; links?: { spanId: string }[] }[] }[] }[];
}

const attributesOf = (list: OtlpAttribute[] | undefined): Record<string, unknown> => Object.fromEntries((list ?? []).map((a) => [a.key, Object.values(a.value)[0]]));

/** A collector of its own: what the services export over OTLP/HTTP (JSON) lands here. */
function spanReceiver(spans: ExportedSpan[]): Server {
  return createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const exported = JSON.parse(body) as OtlpExport;
      for (const resourceSpans of exported.resourceSpans ?? []) {
        const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name']);
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({ service, name: span.name, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId ?? '', attributes: attributesOf(span.attributes), links: (span.links ?? []).map((link) => link.spanId) });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
}

const eventually = <T>(what: string, find: () => T | undefined, timeoutMs = 30_000) => eventuallyFound(what, find, timeoutMs, 100);

// The gateway and the persister as their own processes: the only way the trace can reach the
// persister is in the headers of the JetStream message between them.
describe("a send's trace carried through JetStream from the gateway process to the persister process", () => {
  const run = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('hex');
  const stream = `TRACE_${run}`;
  const spans: ExportedSpan[] = [];
  const receiver = spanReceiver(spans);
  const processes: ServiceProcess[] = [];
  let store: KyselyChatStore;
  let gatewayPort = 0;

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const db = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    store = new KyselyChatStore(createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 2 }));
    const env = {
      NODE_ENV: 'test',
      JWT_SECRET: secret,
      HOST: '127.0.0.1',
      GATEWAY_PORT: '0',
      PERSISTER_PORT: '0',
      REDIS_URL: TEST_REDIS_URL,
      NATS_URL: TEST_NATS_URL,
      DATABASE_URL: TEST_DATABASE_URL,
      NATS_STREAM: stream,
      NATS_SUBJECT_PREFIX: `trace.${run}`,
      NATS_CONSUMER: `trace_${run}`,
      LOG_LEVEL: 'info',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    };
    const gateway = await startServiceProcess('gateway', { ...env, INSTANCE_ID: `trace-gw-${run}` }, (line) =>
      line['msg'] === 'gateway listening' && typeof line['port'] === 'number' ? line['port'] : undefined,
    );
    processes.push(gateway.process);
    gatewayPort = gateway.ready;
    const persister = await startServiceProcess('persister', { ...env, INSTANCE_ID: `trace-persister-${run}` }, (line) => (line['msg'] === 'persister running' ? true : undefined));
    processes.push(persister.process);
  }, 180_000);

  afterAll(async () => {
    for (const service of processes) await service.stop();
    await store.close();
    await new Promise((resolve) => receiver.close(resolve));
    const nc = await connect({ servers: TEST_NATS_URL });
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
    await nc.close();
  }, 60_000);

  it("makes the persister's span for the message a child of the gateway's send span, in the same trace", async () => {
    const alice = randomUUID();
    const sessionId = randomUUID();
    await store.createSession({ id: sessionId, title: 'traces', members: [alice], metadata: {}, createdAt: new Date().toISOString() });
    const client = new TestClient(`ws://127.0.0.1:${gatewayPort}/ws/chat/${sessionId}?token=${await signToken(secret, { userId: alice })}`);
    await client.nextOfType('welcome');
    const clientMsgId = randomUUID();
    client.send({ type: 'send', clientMsgId, body: 'traced across processes' });
    const ack = await client.next((frame: Frame) => frame['type'] === 'ack' && frame['clientMsgId'] === clientMsgId);
    client.close();

    const send = await eventually('the gateway to export its send span', () =>
      spans.find((span) => span.service === 'gateway' && span.name === 'send' && span.attributes['chat.session_id'] === sessionId),
    );
    const persist = await eventually("the persister to export the message's span", () =>
      spans.find((span) => span.service === 'persister' && span.name === 'persist' && span.traceId === send.traceId),
    );
    // The message's span hangs directly under the send span: the headers carried the send span itself.
    expect(persist.parentSpanId).toBe(send.spanId);
    // The batch write links to it and holds the insert that made the message durable.
    const batch = await eventually('the batch span linked to the send', () =>
      spans.find((span) => span.service === 'persister' && span.name === 'persist batch' && span.links.includes(send.spanId)),
    );
    await eventually('the insert under the batch span', () => spans.find((span) => span.name === 'postgres insert_messages' && span.parentSpanId === batch.spanId));
    expect((await store.history(sessionId, { limit: 10 })).messages.map((m) => m.id)).toEqual([ack['id']]);
  }, 60_000);
});
