import { afterEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { FeedMessageFrame, FeedOpenFrame } from '@chat/protocol';
import type { ConnectionState } from './connection-state.ts';
import { FeedClient } from './feed-client.ts';

/**
 * A stand-in for the gateway's feed route, for these unit tests only: tokens are `user:<uuid>`,
 * `expired` is refused with 4401; every socket gets `feed_open` and then what the test pushes.
 */
class FakeFeed {
  readonly urls: string[] = [];
  readonly received: string[] = [];
  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly sockets = new Set<WebSocket>();

  constructor() {
    this.#server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"chat":"on","heldBy":"switch"}'));
    this.#server.on('upgrade', (req, socket, head) => this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req.url ?? '/')));
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  push(frame: unknown): void {
    for (const ws of this.sockets) ws.send(JSON.stringify(frame));
  }

  async stop(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  #accept(ws: WebSocket, url: string): void {
    this.urls.push(url);
    const token = new URL(url, 'http://x').searchParams.get('token') ?? '';
    if (!url.startsWith('/ws/feed?') || !token.startsWith('user:')) return ws.close(4401, 'token expired');
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data: Buffer) => this.received.push(data.toString()));
    const open: FeedOpenFrame = { type: 'feed_open', userId: token.slice('user:'.length), sessionIds: [] };
    ws.send(JSON.stringify(open));
  }
}

let peer: FakeFeed | undefined;
let client: FeedClient | undefined;
afterEach(async () => {
  client?.close();
  await peer?.stop();
});

function nextEvent<T extends unknown[]>(feed: FeedClient, event: 'open' | 'feed_message' | 'authenticated'): Promise<T[0]> {
  return new Promise((resolve) => feed.once(event, (...args: unknown[]) => resolve(args[0] as T[0])));
}

describe('FeedClient', () => {
  it('opens /ws/feed with the token, passes on feed frames, and skips frames it does not know', async () => {
    peer = new FakeFeed();
    const base = await peer.start();
    const userId = randomUUID();
    client = new FeedClient({ token: `user:${userId}`, wsUrl: `ws://${base}`, apiUrl: `http://${base}`, WebSocket, environment: null, heartbeatMs: 0 });
    const opened = nextEvent<[FeedOpenFrame]>(client, 'open');
    client.connect();
    await expect(opened).resolves.toEqual({ type: 'feed_open', userId, sessionIds: [] });
    const frame: FeedMessageFrame = { type: 'feed_message', sessionId: randomUUID(), seq: 1, userId, timestamp: new Date().toISOString(), preview: 'hi' };
    const got = nextEvent<[FeedMessageFrame]>(client, 'feed_message');
    peer.push({ type: 'something_new' });
    peer.push(frame);
    await expect(got).resolves.toEqual(frame);
  });

  it('reconnects after a dropped link and opens again; after a 4401 it fetches a fresh token and comes back with it', async () => {
    peer = new FakeFeed();
    const base = await peer.start();
    const userId = randomUUID();
    const states: ConnectionState['status'][] = [];
    client = new FeedClient({
      token: 'expired',
      tokenProvider: () => Promise.resolve(`user:${userId}`),
      wsUrl: `ws://${base}`,
      apiUrl: `http://${base}`,
      WebSocket,
      environment: null,
      heartbeatMs: 0,
      backoff: { initialDelayMs: 10, maxDelayMs: 20 },
    });
    client.on('state', (state) => states.push(state.status));
    const opened = nextEvent<[FeedOpenFrame]>(client, 'open');
    client.connect();
    await expect(opened).resolves.toMatchObject({ userId });
    expect(peer.urls.map((url) => new URL(url, 'http://x').searchParams.get('token'))).toEqual(['expired', `user:${userId}`]);

    const reopened = nextEvent<[FeedOpenFrame]>(client, 'open');
    for (const ws of peer.sockets) ws.terminate();
    await expect(reopened).resolves.toMatchObject({ userId });
    expect(states).toContain('reconnecting');
    expect(client.state.status).toBe('open');
  });
});
