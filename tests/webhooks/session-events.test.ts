import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { createEventBackend, type EventBackend } from '@chat/composition';
import { JetStreamQueueConsumer, sessionEventStream } from '@chat/jetstream';
import { TestClient } from '@chat/gateway/testing';
import { MEMBERS_SCOPE } from '@chat/protocol';
import { createLogger } from '@chat/telemetry';
import { JetStreamDeadLetters, loadWebhookSettings, redisMarks, UnreadOfflineWatcher, verifyWebhook, WebhookDispatcher, WebhookMetrics, WEBHOOK_HEADERS, type WebhookEndpoint } from '@chat/webhooks';
import { jetstreamManager } from '@nats-io/jetstream';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { startReceivers, type Behaviour, type Receiver } from './receiver.ts';
import { waitFor } from '../support/wait.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);
const logger = createLogger('webhooks-test', 'silent');
const SECRET = 'whsec-session-events-0123';
/** member.unread_offline after three seconds, so the test need not wait minutes. */
const UNREAD_MINUTES = 0.05;

const RECEIVERS: Record<string, Behaviour> = {
  steady: () => ({ status: 204 }),
  // Fails twice per event (a 500, then no answer within the timeout), then takes it.
  failing: (attempt) => (attempt === 1 ? { status: 500 } : attempt === 2 ? { status: 200, delayMs: 1_500 } : { status: 200 }),
  // Answers the first attempt only after the sender gave up (having done the work), the next at once.
  late: (attempt) => ({ status: 200, delayMs: attempt === 1 ? 1_500 : 0 }),
};

interface Received {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

describeReal('session events as webhooks: session.closed, member.removed, member.unread_offline', () => {
  let stack: Stack;
  let backend: EventBackend;
  let dispatcher: WebhookDispatcher;
  let watcher: UnreadOfflineWatcher;
  const metrics = new WebhookMetrics();
  const receivers = new Map<string, Receiver>();
  const deadLetterStream = `WEBHOOK_DL_${randomBytes(5).toString('hex')}`;
  const sockets: TestClient[] = [];
  const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
  let sessionId: string;
  let firstMessage: { id: string; seq: number; timestamp: string };

  beforeAll(async () => {
    stack = await startStack('services');
    for (const [id, receiver] of await startReceivers(SECRET, RECEIVERS)) receivers.set(id, receiver);
    const prefix = `wh_${randomBytes(4).toString('hex')}`;
    const settings = loadWebhookSettings({
      WEBHOOK_ENDPOINTS: JSON.stringify(
        [...receivers].map(([id, receiver]): Partial<WebhookEndpoint> => ({
          id,
          url: receiver.url,
          secrets: [SECRET],
          events: ['session.closed', 'member.removed', 'member.unread_offline'],
          timeoutMs: id === 'steady' ? 5_000 : 500,
          maxAttempts: 6,
          retryBaseMs: 50,
          retryMaxMs: 200,
        })),
      ),
      WEBHOOK_DEAD_LETTER_STREAM: deadLetterStream,
      WEBHOOK_CONSUMER_PREFIX: prefix,
      WEBHOOK_UNREAD_OFFLINE_MINUTES: String(UNREAD_MINUTES),
    });
    // As the service's main builds it: NATS, the session event stream, live state and Redis for the marks.
    backend = await createEventBackend(stack.config, { role: 'webhooks-test', liveState: true });
    const { nats: nc, state, redis } = backend;
    if (state === undefined || redis === undefined) throw new Error('live state was asked for');
    const deadLetters = await JetStreamDeadLetters.create(nc, deadLetterStream);
    dispatcher = new WebhookDispatcher({ nc, queue: stack.config.queue, endpoints: settings.endpoints, consumerPrefix: prefix, deadLetters, metrics, logger });
    await dispatcher.start();
    watcher = new UnreadOfflineWatcher({
      consumer: await JetStreamQueueConsumer.create(nc, { ...stack.config.queue, consumer: `${prefix}-unread`, batchSize: 100, startAt: 'new' }),
      state,
      events: backend.sessionEvents,
      marks: redisMarks(redis, `test:${prefix}`),
      minutes: settings.unreadOfflineMinutes,
      logger,
    });
    await watcher.start();
  }, 120_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await watcher.stop();
    await dispatcher.stop();
    const jsm = await jetstreamManager(backend.nats);
    await jsm.streams.delete(deadLetterStream).catch(() => false);
    await jsm.streams.delete(sessionEventStream(stack.config.queue).stream).catch(() => false);
    await backend.close();
    await stack.stop();
    for (const receiver of receivers.values()) await receiver.stop();
  }, 60_000);

  async function api<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
    const response = await fetch(`${stack.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async function chatSocket(userId: string): Promise<TestClient> {
    const socket = new TestClient(`${stack.gatewayUrls[0].replace(/^http/, 'ws')}/ws/chat/${sessionId}?token=${await stack.token(userId)}`);
    sockets.push(socket);
    await socket.nextOfType('welcome');
    return socket;
  }

  /** The distinct events a receiver took, by id. */
  const events = (receiver: Receiver): Received[] => {
    const byId = new Map<string, Received>();
    for (const delivery of receiver.deliveries) if (receiver.processed.has(delivery.eventId)) byId.set(delivery.eventId, JSON.parse(delivery.body) as Received);
    return [...byId.values()].filter((event) => event.data['sessionId'] === sessionId);
  };
  const ofType = (receiver: Receiver, type: string) => events(receiver).filter((event) => event.type === type);

  it('reports each member who has had unread messages while offline for N minutes, once per offline stretch', async () => {
    const admin = await stack.token(randomUUID(), { admin: true });
    sessionId = (await api<{ id: string }>('POST', '/api/chat/sessions', admin, { members: [alice, bob, carol] })).id;
    // Alice was here and left before the message; Bob stays; Carol never came.
    const aliceSocket = await chatSocket(alice);
    aliceSocket.close();
    await aliceSocket.closed;
    await chatSocket(bob);
    await new Promise((resolve) => setTimeout(resolve, 50));
    firstMessage = await api('POST', `/api/chat/sessions/${sessionId}/messages`, admin, { body: 'the forecast is in' });
    const steady = receivers.get('steady')!;
    await waitFor('two unread reports', () => ofType(steady, 'member.unread_offline').length === 2);
    const reports = ofType(steady, 'member.unread_offline').sort((a, b) => String(a.data['userId']).localeCompare(String(b.data['userId'])));
    const expected = [alice, carol].sort();
    expect(reports.map((r) => r.data['userId'])).toEqual(expected);
    for (const report of reports) {
      expect(report.data).toMatchObject({ sessionId, firstUnreadSeq: firstMessage.seq, unreadSince: firstMessage.timestamp, offlineMinutes: UNREAD_MINUTES });
      // Not before N minutes had passed since the message.
      expect(Date.parse((report as unknown as { createdAt: string }).createdAt) - Date.parse(firstMessage.timestamp)).toBeGreaterThanOrEqual(UNREAD_MINUTES * 60_000);
    }
    const aliceReport = reports.find((r) => r.data['userId'] === alice)!;
    const carolReport = reports.find((r) => r.data['userId'] === carol)!;
    expect(typeof aliceReport.data['lastConnectedAt']).toBe('string');
    expect(Date.parse(aliceReport.data['lastConnectedAt'] as string)).toBeLessThan(Date.parse(firstMessage.timestamp));
    expect(carolReport.data['lastConnectedAt']).toBeNull();

    // A second message in the same offline stretch reports nobody again.
    await api('POST', `/api/chat/sessions/${sessionId}/messages`, admin, { body: 'and the appendix' });
    await new Promise((resolve) => setTimeout(resolve, UNREAD_MINUTES * 60_000 + 2_000));
    expect(ofType(steady, 'member.unread_offline')).toHaveLength(2);
  });

  it('sends member.removed and session.closed, and every receiver gets every event under one id', async () => {
    const admin = await stack.token(randomUUID(), { admin: true });
    await api('DELETE', `/api/chat/sessions/${sessionId}/members/${carol}`, await stack.token(bob, { scopes: [MEMBERS_SCOPE] }));
    await api('DELETE', `/api/chat/sessions/${sessionId}`, admin);
    for (const [name, receiver] of receivers) {
      await waitFor(`every event at ${name}`, () => ofType(receiver, 'session.closed').length === 1 && ofType(receiver, 'member.removed').length === 1 && ofType(receiver, 'member.unread_offline').length === 2);
      expect(ofType(receiver, 'member.removed')[0]!.data).toEqual({ sessionId, userId: carol, removedBy: bob });
      expect(ofType(receiver, 'session.closed')[0]).toMatchObject({ id: `session.closed:${sessionId}`, data: { sessionId, closedBy: expect.any(String) } });
      const ours = receiver.deliveries.filter((d) => (JSON.parse(d.body) as Received).data['sessionId'] === sessionId);
      expect(ours.every((d) => d.verified)).toBe(true);
      // The id in the header is the id in the body.
      for (const delivery of ours) expect((JSON.parse(delivery.body) as Received).id).toBe(delivery.eventId);
    }
  });

  it('retries a receiver that fails and one that times out until each takes every event, and one that answered late gets a repeat with the same id', async () => {
    const ids = events(receivers.get('steady')!).map((event) => event.id);
    expect(ids).toHaveLength(4);
    const failing = receivers.get('failing')!;
    // Its second attempt ran out of time yet counted as done at the receiver: the third is the sender's.
    await waitFor('the third attempt of every event', () => ids.every((id) => failing.deliveries.filter((d) => d.eventId === id).length >= 3));
    await new Promise((resolve) => setTimeout(resolve, 500));
    for (const id of ids) expect(failing.deliveries.filter((d) => d.eventId === id).map((d) => d.attempt)).toEqual([1, 2, 3]);
    const late = receivers.get('late')!;
    for (const id of ids) {
      const attempts = late.deliveries.filter((d) => d.eventId === id);
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(new Set(attempts.map((d) => d.body)).size).toBe(1);
    }
    const text = metrics.text();
    expect(text).toMatch(/chat_webhook_retries_total\{endpoint="failing"\} \d+/);
  });

  it('is refused by the receiver when replayed outside the window or altered', () => {
    const delivery = receivers.get('steady')!.deliveries.find((d) => d.eventId.startsWith('member.removed:'))!;
    const sentAt = Number(delivery.headers[WEBHOOK_HEADERS.timestamp]);
    expect(verifyWebhook(SECRET, delivery.headers, delivery.body, sentAt)).toEqual({ ok: true });
    expect(verifyWebhook(SECRET, delivery.headers, delivery.body, sentAt + 301)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhook(SECRET, delivery.headers, delivery.body.replace(carol, bob), sentAt)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebhook(SECRET, { ...delivery.headers, [WEBHOOK_HEADERS.id]: `${delivery.eventId}x` }, delivery.body, sentAt)).toEqual({ ok: false, reason: 'bad_signature' });
  });
});
