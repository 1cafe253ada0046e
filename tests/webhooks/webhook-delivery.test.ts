import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { createLogger } from '@chat/telemetry';
import { DEAD_LETTERS_PATH, JetStreamDeadLetters, loadWebhookSettings, verifyWebhook, WebhookDispatcher, WebhookMetrics, WebhooksServer, WEBHOOK_HEADERS, type WebhookEndpoint } from '@chat/webhooks';
import { Readiness } from '@chat/service-kit';
import { createEventBackend, createVerifier, type EventBackend } from '@chat/composition';
import { jetstreamManager } from '@nats-io/jetstream';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { startStack, type Stack } from '../support/stack.ts';
import { startReceivers, type Behaviour, type Receiver } from './receiver.ts';
import { waitFor } from '../support/wait.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);
const logger = createLogger('webhooks-test', 'silent');
const SECRET = 'whsec-0123456789abcdef';
const MESSAGES = 6;

/** Endpoint id → how its receiver answers the n-th attempt of each event. */
const RECEIVERS: Record<string, Behaviour> = {
  steady: () => ({ status: 204 }),
  // Fails twice per event, then takes it.
  failing: (attempt) => ({ status: attempt <= 2 ? 500 : 200 }),
  // Answers the first attempt after the sender's timeout (500 ms; having done the work), the next at once.
  // The others get 5 s, so a loaded machine does not turn their answers into timeouts.
  late: (attempt) => ({ status: 200, delayMs: attempt === 1 ? 1_500 : 0 }),
  // Never takes anything: every event ends as a dead letter.
  broken: () => ({ status: 503 }),
};

describeReal('webhook delivery from the message stream', () => {
  let stack: Stack;
  let backend: EventBackend;
  let dispatcher: WebhookDispatcher;
  let startDispatcher: () => Promise<WebhookDispatcher>;
  let admin: string;
  let server: WebhooksServer;
  const metrics = new WebhookMetrics();
  const receivers = new Map<string, Receiver>();
  const deadLetterStream = `WEBHOOK_DL_${randomBytes(5).toString('hex')}`;
  const posted: { id: string; sessionId: string; seq: number }[] = [];

  beforeAll(async () => {
    stack = await startStack('services');
    for (const [id, receiver] of await startReceivers(SECRET, RECEIVERS)) receivers.set(id, receiver);
    const settings = loadWebhookSettings({
      WEBHOOK_ENDPOINTS: JSON.stringify(
        [...receivers].map(([id, receiver]): Partial<WebhookEndpoint> => ({ id, url: receiver.url, secrets: [SECRET], timeoutMs: id === 'late' ? 500 : 5_000, maxAttempts: id === 'broken' ? 3 : 6, retryBaseMs: 50, retryMaxMs: 200 })),
      ),
      WEBHOOK_DEAD_LETTER_STREAM: deadLetterStream,
      WEBHOOK_CONSUMER_PREFIX: `wh_${randomBytes(4).toString('hex')}`,
      WEBHOOK_PORT: '0',
    });
    // As the service's main builds it: only NATS, since no endpoint takes member.unread_offline.
    backend = await createEventBackend(stack.config, { role: 'webhooks-test', liveState: false });
    const nc = backend.nats;
    const deadLetters = await JetStreamDeadLetters.create(nc, deadLetterStream);
    startDispatcher = async () => {
      const started = new WebhookDispatcher({ nc, queue: stack.config.queue, endpoints: settings.endpoints, consumerPrefix: settings.consumerPrefix, deadLetters, metrics, logger });
      await started.start();
      return started;
    };
    dispatcher = await startDispatcher();
    server = new WebhooksServer({ host: '127.0.0.1', port: 0, readiness: new Readiness(), metrics, deadLetters, verifier: createVerifier(stack.config), endpoints: settings.endpoints });
    await server.start();

    admin = await stack.token(randomUUID(), { admin: true });
    const sessions = await Promise.all([0, 1].map(() => api<{ id: string }>('POST', '/api/chat/sessions', admin, {})));
    for (let i = 0; i < MESSAGES; i++) {
      const session = sessions[i % 2]!;
      posted.push(await api('POST', `/api/chat/sessions/${session.id}/messages`, admin, { body: `result ${i}`, clientMsgId: `run-${i}` }));
    }
  }, 120_000);

  afterAll(async () => {
    await dispatcher.stop();
    await server.stop();
    await (await jetstreamManager(backend.nats)).streams.delete(deadLetterStream).catch(() => false);
    await backend.close();
    await stack.stop();
    for (const receiver of receivers.values()) await receiver.stop();
  }, 60_000);

  async function api<T>(method: string, path: string, token: string, body?: unknown): Promise<T> {
    const response = await fetch(`${stack.apiUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  const expectedIds = () => posted.map((m) => `message.created:${m.id}`).sort();

  it('delivers every event, signed, to a receiver that always answers', async () => {
    const steady = receivers.get('steady')!;
    await waitFor('every event at the steady receiver', () => steady.processed.size === MESSAGES);
    expect([...steady.processed].sort()).toEqual(expectedIds());
    expect(steady.deliveries.every((d) => d.verified)).toBe(true);
    const first = steady.deliveries[0]!;
    const event = JSON.parse(first.body) as { id: string; type: string; data: { id: string; seq: number; body: string } };
    expect(event.type).toBe('message.created');
    expect(event.id).toBe(first.eventId);
    expect(posted.some((m) => m.id === event.data.id && m.seq === event.data.seq)).toBe(true);
  });

  it('retries a failing receiver with backoff until it takes each event', async () => {
    const failing = receivers.get('failing')!;
    await waitFor('every event at the failing receiver', () => failing.processed.size === MESSAGES);
    expect([...failing.processed].sort()).toEqual(expectedIds());
    for (const id of expectedIds()) expect(failing.deliveries.filter((d) => d.eventId === id).length).toBe(3);
  });

  it('redelivers to a receiver that answered too late, under the same event id, so it can drop the repeat', async () => {
    const late = receivers.get('late')!;
    await waitFor('every late event answered in time once', () => expectedIds().every((id) => late.deliveries.filter((d) => d.eventId === id).length >= 2));
    expect([...late.processed].sort()).toEqual(expectedIds());
    expect(late.deliveries.every((d) => d.verified)).toBe(true);
    // Each attempt is signed at its own time, with the same id and body.
    const [a, b] = late.deliveries.filter((d) => d.eventId === late.deliveries[0]!.eventId);
    expect(b!.body).toBe(a!.body);
  });

  it('dead-letters what a receiver never takes, after its attempts, and lists it over REST to admins only', async () => {
    const admin = await stack.token(randomUUID(), { admin: true });
    const listUrl = `http://127.0.0.1:${server.port}${DEAD_LETTERS_PATH}?endpoint=broken&limit=100`;
    const list = async () => (await (await fetch(listUrl, { headers: { authorization: `Bearer ${admin}` } })).json()) as { deadLetters: { eventId: string; attempts: number; lastStatus?: number; endpointId: string }[] };
    await waitFor('every event dead-lettered', async () => (await list()).deadLetters.length === MESSAGES);
    const letters = (await list()).deadLetters;
    expect(letters.map((l) => l.eventId).sort()).toEqual(expectedIds());
    expect(letters.every((l) => l.attempts === 3 && l.lastStatus === 503 && l.endpointId === 'broken')).toBe(true);
    expect(receivers.get('broken')!.deliveries.length).toBe(3 * MESSAGES);

    expect((await fetch(listUrl)).status).toBe(401);
    const user = await stack.token(randomUUID());
    expect((await fetch(listUrl, { headers: { authorization: `Bearer ${user}` } })).status).toBe(403);
    expect((await fetch(listUrl.replace('limit=100', 'limit=0'), { headers: { authorization: `Bearer ${admin}` } })).status).toBe(400);
    // Other endpoints have none.
    const steadyList = (await (await fetch(listUrl.replace('endpoint=broken', 'endpoint=steady'), { headers: { authorization: `Bearer ${admin}` } })).json()) as { deadLetters: unknown[] };
    expect(steadyList.deadLetters).toEqual([]);

    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(text).toContain(`chat_webhook_dead_letters_total{endpoint="broken"} ${MESSAGES}`);
    expect(text).toContain(`chat_webhook_attempts_total{endpoint="broken",outcome="failed"} ${3 * MESSAGES}`);
  });

  it('replays a dead letter over REST to admins: refused while the receiver still fails, then delivered once and gone from the list', async () => {
    const admin = await stack.token(randomUUID(), { admin: true });
    const base = `http://127.0.0.1:${server.port}${DEAD_LETTERS_PATH}`;
    const as = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
    const list = async () => ((await (await fetch(`${base}?endpoint=broken&limit=100`, as(admin))).json()) as { deadLetters: { seq: number; eventId: string }[] }).deadLetters;
    const [letter] = await list();
    const replay = (seq: number, token = admin) => fetch(`${base}/${seq}/replay`, { method: 'POST', ...as(token) });
    const broken = receivers.get('broken')!;

    expect((await replay(letter!.seq, await stack.token(randomUUID()))).status).toBe(403);
    expect((await fetch(`${base}/${letter!.seq}/replay`, { method: 'POST' })).status).toBe(401);
    const stillBroken = await replay(letter!.seq);
    expect(stillBroken.status).toBe(409);
    expect(((await stillBroken.json()) as { error: { message: string } }).error.message).toContain('HTTP 503');
    expect((await list()).map((l) => l.seq)).toContain(letter!.seq);

    broken.behaviour = () => ({ status: 200 });
    const before = broken.deliveries.length;
    const replayed = await replay(letter!.seq);
    expect(replayed.status).toBe(200);
    expect(await replayed.json()).toEqual({ replayed: true, eventId: letter!.eventId, endpointId: 'broken', status: 200 });
    const delivered = broken.deliveries.slice(before);
    expect(delivered.map((d) => [d.eventId, d.verified])).toEqual([[letter!.eventId, true]]);
    expect((await list()).map((l) => l.seq)).not.toContain(letter!.seq);
    expect((await list()).length).toBe(MESSAGES - 1);
    expect((await replay(letter!.seq)).status).toBe(404);
    expect((await replay(99_999_999)).status).toBe(404);
    const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    expect(text).toContain('chat_webhook_dead_letters_replayed_total{endpoint="broken"} 1');
  });

  it('signs so that a receiver refuses a replay outside the window and a changed body', () => {
    const delivery = receivers.get('steady')!.deliveries[0]!;
    const sentAt = Number(delivery.headers[WEBHOOK_HEADERS.timestamp]);
    expect(verifyWebhook(SECRET, delivery.headers, delivery.body, sentAt + 301)).toEqual({ ok: false, reason: 'stale' });
    expect(verifyWebhook(SECRET, delivery.headers, delivery.body.replace('result', 'resulT'), sentAt)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('delivers what was posted while the service was stopped once it runs again', async () => {
    await dispatcher.stop();
    const session = await api<{ id: string }>('POST', '/api/chat/sessions', admin, {});
    const whileDown = await api<{ id: string }>('POST', `/api/chat/sessions/${session.id}/messages`, admin, { body: 'posted while down' });
    const steady = receivers.get('steady')!;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(steady.processed.has(`message.created:${whileDown.id}`)).toBe(false);
    dispatcher = await startDispatcher();
    await waitFor('the event posted while down', () => steady.processed.has(`message.created:${whileDown.id}`));
  });
});
