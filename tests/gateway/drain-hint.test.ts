import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { ChatClient, type ConnectionState } from '@chat/client';
import { TestClient } from '@chat/gateway/testing';
import { drainHintOf } from '@chat/protocol';
import { WebSocket } from 'ws';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { Cluster } from './cluster.ts';
import { waitFor } from '../support/wait.ts';

const describeReal = await describeWithServices(POSTGRES, REDIS, NATS);
const WINDOW_MS = 2_000;
const CLIENTS = 8;

const until = (what: string, condition: () => boolean, timeoutMs = 15_000) => waitFor(what, condition, timeoutMs, 20);

describeReal('a draining gateway spreads its clients over DRAIN_RECONNECT_WINDOW_MS, and the SDK honours it', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start(2, { env: { DRAIN_RECONNECT_WINDOW_MS: String(WINDOW_MS) } });
  });

  afterAll(async () => {
    await cluster.dispose();
  });

  it('tells each client its own delay in the 1001 close; each waits it and reconnects exactly once, to the other replica', async () => {
    const [draining, staying] = [cluster.replica(0), cluster.replica(1)];
    const users = Array.from({ length: CLIENTS + 1 }, () => randomUUID());
    const sessionId = await cluster.createSession(users);
    const raw = new TestClient(draining.url(`/ws/chat/${sessionId}?token=${await cluster.token({ userId: users[CLIENTS] ?? '' })}`));
    await raw.nextOfType('welcome');
    const clients = await Promise.all(
      users.slice(0, CLIENTS).map(async (userId) => {
        const client = new ChatClient({
          sessionId,
          token: await cluster.token({ userId }),
          wsUrl: [draining.url(''), staying.url('')],
          apiUrl: staying.http(''),
          WebSocket,
          environment: null,
          status: false,
          backoff: { initialDelayMs: 50, maxDelayMs: 200 },
        });
        const states: ConnectionState[] = [];
        client.on('state', (state) => states.push(state));
        return { client, states };
      }),
    );
    try {
      for (const { client } of clients) client.connect();
      await until('every client open on the first replica', () => clients.every(({ client }) => client.state.status === 'open') && draining.gateway.connectionCount === CLIENTS + 1);

      const drainedAt = Date.now();
      await draining.stop();
      const closed = await raw.closed;
      expect(closed.code).toBe(1001);
      expect(closed.reason).toMatch(/^server restarting; reconnect-in=\d+$/);
      expect(drainHintOf(closed.reason)).toBeLessThanOrEqual(WINDOW_MS);

      await until('every client open on the other replica', () => clients.every(({ client }) => client.state.status === 'open') && staying.gateway.connectionCount === CLIENTS, 20_000);
      const waits: number[] = [];
      for (const { states } of clients) {
        const after = states.slice(states.findIndex((s) => s.status === 'reconnecting'));
        const reconnecting = after[0];
        if (reconnecting?.status !== 'reconnecting') throw new Error('no reconnecting state after the drain');
        expect(reconnecting.lastCloseCode).toBe(1001);
        waits.push(reconnecting.nextAttemptAt - drainedAt);
        // One attempt, and it opened.
        expect(after.map((s) => s.status)).toEqual(['reconnecting', 'connecting', 'open']);
      }
      // Within the window (plus the SDK's jitter of at most 10 %), and spread over it, not all at once.
      for (const wait of waits) expect(wait).toBeLessThanOrEqual(WINDOW_MS * 1.1 + 500);
      expect(new Set(waits.map((wait) => Math.round(wait / 100))).size).toBeGreaterThanOrEqual(CLIENTS / 2);
      expect(Math.max(...waits) - Math.min(...waits)).toBeGreaterThanOrEqual(WINDOW_MS / 2);

      // Resumed where they were: a send from each is acked on the other replica.
      const acks = await Promise.all(clients.map(({ client }, i) => client.send(`after the drain ${i}`)));
      expect(new Set(acks.map((ack) => ack.seq)).size).toBe(CLIENTS);
    } finally {
      for (const { client } of clients) client.close();
      raw.close();
    }
  }, 60_000);
});
