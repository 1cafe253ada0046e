/**
 * Throughput and latency across two gateway replicas (separate processes) over the real Redis,
 * JetStream and PostgreSQL: each session has a sender on replica A and a reader on replica B.
 * Prints acked sends/s, send→ack and send→delivery (on B) percentiles as JSON.
 *
 *   node tests/gateway/replica-bench.ts            # BENCH_SESSIONS=100 BENCH_MESSAGES=100 BENCH_WINDOW=10
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { signToken } from '@chat/auth';
import { createDatabase, KyselyChatStore, migrateToLatest } from '@chat/db';
import { deleteStream, randomStream } from '../queue/queue-harness.ts';
import { onFreePort } from '../support/ports.ts';
import { TEST_DATABASE_URL, TEST_NATS_URL, TEST_REDIS_URL } from '../support/services.ts';

const SESSIONS = Number(process.env['BENCH_SESSIONS'] ?? 100);
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 100);
const WINDOW = Number(process.env['BENCH_WINDOW'] ?? 10);
const SECRET = 'replica-bench-secret-0123456789-abcdefghijkl';

/** A gateway replica on a free port, once ready; on another port if that one was taken before the gateway bound it. */
function startGateway(names: { stream: string; subjectPrefix: string }, id: string): Promise<{ child: ChildProcess; port: number }> {
  return onFreePort(async (port) => {
    const child = spawn(process.execPath, ['services/gateway/src/main.ts'], {
      env: {
        ...process.env,
        JWT_SECRET: SECRET,
        GATEWAY_PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: TEST_REDIS_URL,
        NATS_URL: TEST_NATS_URL,
        DATABASE_URL: TEST_DATABASE_URL,
        NATS_STREAM: names.stream,
        NATS_SUBJECT_PREFIX: names.subjectPrefix,
        RATE_LIMIT_PER_SEC: '100000',
        RATE_LIMIT_BURST: '100000',
        LOG_LEVEL: 'warn',
        INSTANCE_ID: id,
      },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    // Shown as before, and kept to tell a taken port from another failure.
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      process.stderr.write(chunk);
    });
    const state = { closed: false };
    child.once('close', () => (state.closed = true));
    for (let i = 0; i < 600; i++) {
      if (state.closed) throw new Error(`gateway ${id} exited during start-up: ${stderr}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return { child, port };
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`gateway ${id} did not become ready`);
  });
}

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.addEventListener('message', () => resolve(ws), { once: true });
    ws.addEventListener('error', () => reject(new Error(`could not open ${url}`)), { once: true });
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return { p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? NaN) };
}

const names = randomStream();
const db = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL });
await migrateToLatest(db);
const store = new KyselyChatStore(db);
const [gatewayA, gatewayB] = [await startGateway(names, 'bench-a'), await startGateway(names, 'bench-b')];
const [portA, portB] = [gatewayA.port, gatewayB.port];
const children = [gatewayA.child, gatewayB.child];

try {
  const sentAt = new Map<string, number>();
  const ackMs: number[] = [];
  const deliveryMs: number[] = [];
  let acked = 0;
  let delivered = 0;
  const pairs: { sender: WebSocket; reader: WebSocket; sessionId: string }[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    const [senderId, readerId] = [randomUUID(), randomUUID()];
    const sessionId = randomUUID();
    await store.createSession({ id: sessionId, title: 'bench', members: [senderId, readerId], metadata: {}, createdAt: new Date().toISOString() });
    const sender = await open(`ws://127.0.0.1:${portA}/ws/chat/${sessionId}?token=${await signToken(SECRET, { userId: senderId })}`);
    const reader = await open(`ws://127.0.0.1:${portB}/ws/chat/${sessionId}?token=${await signToken(SECRET, { userId: readerId })}`);
    pairs.push({ sender, reader, sessionId });
  }
  const total = SESSIONS * MESSAGES;
  const started = performance.now();
  const done = new Promise<void>((resolve) => {
    for (const [index, { sender, reader }] of pairs.entries()) {
      let next = 0;
      const sendOne = () => {
        if (next >= MESSAGES) return;
        const clientMsgId = `${index}:${next++}`;
        sentAt.set(clientMsgId, performance.now());
        sender.send(JSON.stringify({ type: 'send', clientMsgId, body: `bench message ${clientMsgId}` }));
      };
      sender.addEventListener('message', (event: MessageEvent) => {
        const frame = JSON.parse(String(event.data)) as { type: string; clientMsgId?: string };
        if (frame.type === 'error') console.error(frame);
        if (frame.type !== 'ack' || frame.clientMsgId === undefined) return;
        ackMs.push(performance.now() - (sentAt.get(frame.clientMsgId) ?? NaN));
        acked += 1;
        if (delivered === total && acked === total) resolve();
        sendOne();
      });
      reader.addEventListener('message', (event: MessageEvent) => {
        const frame = JSON.parse(String(event.data)) as { type: string; clientMsgId?: string };
        if (frame.type !== 'message' || frame.clientMsgId === undefined) return;
        deliveryMs.push(performance.now() - (sentAt.get(frame.clientMsgId) ?? NaN));
        delivered += 1;
        if (delivered === total && acked === total) resolve();
      });
      for (let w = 0; w < WINDOW; w++) sendOne();
    }
  });
  await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 120_000).unref())]);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify(
      {
        sessions: SESSIONS,
        messagesPerSession: MESSAGES,
        window: WINDOW,
        acked,
        delivered,
        seconds: Math.round(seconds * 100) / 100,
        ackedPerSecond: Math.round(acked / seconds),
        sendToAckMs: summary(ackMs),
        sendToDeliveryAcrossReplicasMs: summary(deliveryMs),
      },
      null,
      2,
    ),
  );
  for (const { sender, reader } of pairs) {
    sender.close();
    reader.close();
  }
} finally {
  for (const child of children) child.kill('SIGTERM');
  await store.close();
  await deleteStream(names.stream);
}
