import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from 'ws';
import { drainCloseReason, type ChatMessage } from '@chat/protocol';
import { ChatClient, type ChatClientOptions } from './chat-client.ts';
import type { ConnectionState } from './connection-state.ts';
import type { EnvironmentSignals } from './environment.ts';
import { ChatClientError } from './errors.ts';

/**
 * A fake peer for these unit tests only, not the real gateway: it follows docs/protocol.md
 * for the frames and close codes the client relies on, with switches to cause failures.
 * Tokens are `user:<uuid>`; `bad` is refused with 4401 and `stranger:<uuid>` with 4403.
 */
class FakePeer {
  readonly sessionId: string;
  readonly messages: ChatMessage[] = [];
  readonly chatUrls: string[] = [];
  /** Seqs the fan-out skips, to make a hole in the live stream. */
  readonly skipFanout = new Set<number>();
  /** While set, sends are stored but neither acked nor fanned out. */
  swallowAcks = false;
  /** The next send is refused with this code, as the rate limiter would. */
  failNext: string | undefined;
  /**
   * The next send is answered `unavailable` although it was stored, as a publish that timed out
   * and landed later is: `silent` stores it without fan-out, `fanout` sends its copy first.
   */
  storedButUnavailable: 'silent' | 'fanout' | undefined;
  /** While set, every send is answered `unavailable` and nothing is stored. */
  allUnavailable = false;
  /** While set, every client frame goes unanswered, pings included. */
  mute = false;
  closed = false;
  /** The kill switch: while set, sockets are refused with 4503 and GET /status says off. */
  chatOff = false;
  statusChecks = 0;
  readonly #server: Server;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #chat = new Set<{ ws: WebSocket; userId: string }>();
  readonly #status = new Set<{ ws: WebSocket; userId: string }>();
  readonly #byClientId = new Map<string, ChatMessage>();

  constructor(sessionId: string = randomUUID()) {
    this.sessionId = sessionId;
    this.#server = createServer((req, res) => this.#http(req.url ?? '/', res));
    this.#server.on('upgrade', (req, socket, head) => {
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws, req.url ?? '/'));
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }

  get base(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const ws of this.#wss.clients) ws.terminate();
    this.#wss.close();
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }

  /** Closes every chat and status socket with `code`, as a replica shutting down would. */
  dropAll(code: number): void {
    for (const { ws } of [...this.#chat, ...this.#status]) {
      if (code === 1006) ws.terminate();
      else ws.close(code);
    }
  }

  /** Drains as a gateway does: every chat socket closed with 1001 and a reconnect delay. */
  drain(delayMs: number): void {
    for (const { ws } of this.#chat) ws.close(1001, drainCloseReason(delayMs));
  }

  chatConnections(): number {
    return this.#chat.size;
  }

  /** Stores a message from someone else, as the session-api's POST would. */
  post(userId: string, body: string): ChatMessage {
    return this.#store(userId, body, randomUUID(), {});
  }

  closeSession(): void {
    this.closed = true;
    for (const { ws } of [...this.#chat, ...this.#status]) {
      ws.send(JSON.stringify({ type: 'session_closed' }));
      ws.close(4404);
    }
  }

  /** Turns chat off as the gateway does: every open socket closes with 4503. */
  turnChatOff(): void {
    this.chatOff = true;
    for (const { ws } of [...this.#chat, ...this.#status]) ws.close(4503, 'chat is turned off');
  }

  #http(url: string, res: ServerResponse): void {
    const parsed = new URL(url, 'http://peer');
    if (parsed.pathname === '/status') {
      this.statusChecks += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ chat: this.chatOff ? 'off' : 'on', heldBy: 'switch' }));
      return;
    }
    const after = Number(parsed.searchParams.get('after') ?? NaN);
    const before = Number(parsed.searchParams.get('before') ?? NaN);
    const limit = Number(parsed.searchParams.get('limit') ?? 50);
    let page: ChatMessage[];
    let hasMore: boolean;
    if (!Number.isNaN(after)) {
      const all = this.messages.filter((m) => m.seq > after);
      page = all.slice(0, limit);
      hasMore = all.length > limit;
    } else {
      const all = this.messages.filter((m) => Number.isNaN(before) || m.seq < before);
      page = all.slice(-limit);
      hasMore = all.length > limit;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ messages: page, hasMore }));
  }

  #accept(ws: WebSocket, url: string): void {
    const parsed = new URL(url, 'ws://peer');
    const token = parsed.searchParams.get('token') ?? '';
    const [, route, sessionId] = parsed.pathname.split('/').slice(1);
    if (this.chatOff) return ws.close(4503, 'chat is turned off');
    if (!token.includes(':')) return ws.close(4401);
    const [kind, userId = ''] = token.split(':');
    if (kind === 'stranger') return ws.close(4403);
    if (sessionId !== this.sessionId || this.closed) return ws.close(4404);
    if (route === 'status') return this.#acceptStatus(ws, userId);
    this.chatUrls.push(url);
    const conn = { ws, userId };
    this.#chat.add(conn);
    ws.on('close', () => this.#chat.delete(conn));
    ws.send(JSON.stringify({ type: 'welcome', sessionId: this.sessionId, userId, connectionId: randomUUID(), seq: this.messages.length }));
    const lastSeq = parsed.searchParams.get('lastSeq');
    if (lastSeq !== null) for (const m of this.messages.filter((x) => x.seq > Number(lastSeq))) ws.send(JSON.stringify(m));
    ws.on('message', (data: Buffer) => this.#onFrame(conn, JSON.parse(data.toString('utf8')) as Record<string, unknown>));
  }

  #acceptStatus(ws: WebSocket, userId: string): void {
    const conn = { ws, userId };
    this.#status.add(conn);
    ws.send(JSON.stringify({ type: 'presence', online: [...new Set([...this.#status].map((c) => c.userId))], names: { [userId]: 'Me' } }));
    for (const other of this.#status) if (other !== conn) other.ws.send(JSON.stringify({ type: 'join', userId, userName: 'Newcomer' }));
    ws.on('close', () => {
      this.#status.delete(conn);
      for (const other of this.#status) other.ws.send(JSON.stringify({ type: 'leave', userId }));
    });
  }

  #onFrame(conn: { ws: WebSocket; userId: string }, frame: Record<string, unknown>): void {
    if (this.mute) return;
    if (frame['type'] === 'ping') return conn.ws.send(JSON.stringify({ type: 'pong' }));
    if (frame['type'] === 'typing') {
      for (const other of this.#status) other.ws.send(JSON.stringify({ type: 'typing', userId: conn.userId, userName: 'Typist' }));
      return;
    }
    if (frame['type'] !== 'send') return conn.ws.send(JSON.stringify({ type: 'error', code: 'invalid_frame', message: 'unknown frame' }));
    const clientMsgId = String(frame['clientMsgId']);
    const body = String(frame['body']);
    const unavailable = () => conn.ws.send(JSON.stringify({ type: 'error', code: 'unavailable', message: 'try again', clientMsgId }));
    if (this.storedButUnavailable !== undefined) {
      const fanout = this.storedButUnavailable === 'fanout';
      this.storedButUnavailable = undefined;
      if (!fanout) this.skipFanout.add(this.messages.length + 1);
      this.#store(conn.userId, body, clientMsgId, {});
      return unavailable();
    }
    if (this.allUnavailable) return unavailable();
    if (this.failNext !== undefined) {
      const code = this.failNext;
      this.failNext = undefined;
      return conn.ws.send(JSON.stringify({ type: 'error', code, message: 'refused', clientMsgId }));
    }
    if (body.length > 4000) {
      return conn.ws.send(JSON.stringify({ type: 'error', code: 'too_large', message: 'body is longer than 4000 characters', clientMsgId }));
    }
    const key = `${conn.userId}/${clientMsgId}`;
    const existing = this.#byClientId.get(key);
    const message = existing ?? this.#store(conn.userId, body, clientMsgId, (frame['metadata'] ?? {}) as Record<string, unknown>);
    if (this.swallowAcks) return;
    conn.ws.send(JSON.stringify({ type: 'ack', clientMsgId, id: message.id, seq: message.seq, timestamp: message.timestamp }));
  }

  #store(userId: string, body: string, clientMsgId: string, metadata: Record<string, unknown>): ChatMessage {
    const message: ChatMessage = {
      type: 'message',
      id: randomUUID(),
      sessionId: this.sessionId,
      seq: this.messages.length + 1,
      userId,
      body,
      metadata,
      timestamp: new Date().toISOString(),
      clientMsgId,
    };
    this.messages.push(message);
    this.#byClientId.set(`${userId}/${clientMsgId}`, message);
    if (!this.swallowAcks && !this.skipFanout.has(message.seq)) {
      for (const { ws } of this.#chat) ws.send(JSON.stringify(message));
    }
    return message;
  }
}

class FakeEnvironment implements EnvironmentSignals {
  online = true;
  readonly #listeners = { online: new Set<() => void>(), offline: new Set<() => void>(), visible: new Set<() => void>() };
  isOnline = (): boolean => this.online;
  onOnline = (listener: () => void) => this.#listen('online', listener);
  onOffline = (listener: () => void) => this.#listen('offline', listener);
  onVisible = (listener: () => void) => this.#listen('visible', listener);
  fire(event: 'online' | 'offline' | 'visible'): void {
    if (event !== 'visible') this.online = event === 'online';
    for (const listener of this.#listeners[event]) listener();
  }
  #listen(event: 'online' | 'offline' | 'visible', listener: () => void): () => void {
    this.#listeners[event].add(listener);
    return () => this.#listeners[event].delete(listener);
  }
}

const peers: FakePeer[] = [];
const clients: ChatClient[] = [];

afterEach(async () => {
  clients.splice(0).forEach((c) => c.close());
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});

async function startPeer(sessionId?: string): Promise<FakePeer> {
  const peer = new FakePeer(sessionId);
  await peer.start();
  peers.push(peer);
  return peer;
}

function clientOf(peer: FakePeer, options: Partial<ChatClientOptions> = {}): ChatClient {
  const client = new ChatClient({
    sessionId: peer.sessionId,
    token: `user:${randomUUID()}`,
    wsUrl: `ws://${peer.base}`,
    apiUrl: `http://${peer.base}`,
    WebSocket,
    environment: null,
    backoff: { initialDelayMs: 20, maxDelayMs: 100 },
    gapCheckMs: 50,
    ...options,
  });
  clients.push(client);
  return client;
}

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function statesOf(client: ChatClient): ConnectionState[] {
  const states: ConnectionState[] = [];
  client.on('state', (s) => states.push(s));
  return states;
}

const opened = (client: ChatClient) => until(() => client.state.status === 'open' && client.store.getState().userId !== undefined, 'open');

describe('ChatClient', () => {
  it('goes from connecting to open and resolves a send with the ack once the server confirms it', async () => {
    const peer = await startPeer();
    const client = clientOf(peer);
    const states = statesOf(client);
    client.connect();
    await opened(client);
    const ack = await client.send('hello', { kind: 'greeting' });
    expect(ack).toMatchObject({ seq: 1, id: peer.messages[0]?.id });
    expect(states.map((s) => s.status).slice(0, 2)).toEqual(['connecting', 'open']);
    const state = client.store.getState();
    expect(state.messages.map((m) => [m.seq, m.body, m.metadata])).toEqual([[1, 'hello', { kind: 'greeting' }]]);
    expect(state.outgoing).toEqual([]);
  });

  it('rejects a send with the server error code and keeps it in the store as failed', async () => {
    const peer = await startPeer();
    const client = clientOf(peer);
    client.connect();
    await opened(client);
    const failure = client.send('x'.repeat(4001));
    await expect(failure).rejects.toBeInstanceOf(ChatClientError);
    await expect(failure).rejects.toMatchObject({ code: 'too_large' });
    expect(client.store.getState().outgoing).toMatchObject([{ status: 'failed', error: { code: 'too_large' } }]);
  });

  it('retries a failed send with its original clientMsgId and settles it with the ack', async () => {
    const peer = await startPeer();
    const client = clientOf(peer);
    client.connect();
    await opened(client);
    peer.failNext = 'rate_limited';
    await expect(client.send('again')).rejects.toMatchObject({ code: 'rate_limited' });
    const [failed] = client.store.getState().outgoing;
    const ack = await client.retry(failed!.clientMsgId);
    expect(ack).toMatchObject({ clientMsgId: failed!.clientMsgId, seq: 1 });
    expect(client.store.getState().outgoing).toEqual([]);
    expect(client.store.getState().messages.map((m) => m.body)).toEqual(['again']);
  });

  it('keeps a send made before the connection opens and sends it once welcomed', async () => {
    const peer = await startPeer();
    const client = clientOf(peer);
    const acked = client.send('early');
    expect(client.store.getState().outgoing).toMatchObject([{ body: 'early', status: 'pending' }]);
    client.connect();
    await expect(acked).resolves.toMatchObject({ seq: 1 });
  });

  it.each([
    [4401, 'bad', 'sign-in expired or invalid'],
    [4403, `stranger:${randomUUID()}`, 'not a member of this session'],
  ])('stops for good after close code %i and says why', async (code, token, meaning) => {
    const peer = await startPeer();
    const client = clientOf(peer, { token });
    const pending = client.send('never');
    client.connect();
    await until(() => client.state.status === 'closed', 'closed');
    expect(client.state).toMatchObject({ status: 'closed', code, meaning });
    await expect(pending).rejects.toMatchObject({ code: code === 4401 ? 'unauthorized' : 'forbidden' });
    await sleep(150);
    expect(client.state.status).toBe('closed');
  });

  it('after 4503 does not reconnect but polls GET /status slowly, fails what was pending, and resumes with lastSeq once chat is on', async () => {
    const peer = await startPeer();
    const client = clientOf(peer, { disabledPollMs: 150 });
    client.connect();
    await expect(client.send('before')).resolves.toMatchObject({ seq: 1 });
    const reconnectsBefore = peer.chatUrls.length;
    peer.swallowAcks = true;
    const pending = client.send('in flight');
    await sleep(30);
    peer.turnChatOff();
    await until(() => client.state.status === 'disabled', 'disabled');
    await expect(pending).rejects.toMatchObject({ code: 'chat_disabled' });
    expect(client.store.getState().messages.map((m) => m.body)).toEqual(['before']);
    await until(() => peer.statusChecks >= 2, 'two status checks');
    // Polling, not reconnecting: no socket was opened while the status said off.
    expect(peer.chatUrls.length).toBe(reconnectsBefore);
    expect(client.state.status).toBe('disabled');

    peer.swallowAcks = false;
    peer.chatOff = false;
    peer.post(randomUUID(), 'while you were away');
    await until(() => client.state.status === 'open', 'open again', 3000);
    expect(peer.chatUrls.at(-1)).toContain('lastSeq=1');
    await until(() => client.store.getState().messages.some((m) => m.body === 'while you were away'), 'caught up');
  });

  it('fails a send at once after a final close instead of keeping it pending', async () => {
    const peer = await startPeer();
    const client = clientOf(peer, { token: 'bad' });
    client.connect();
    await until(() => client.state.status === 'closed', 'closed');
    await expect(client.send('into the void')).rejects.toMatchObject({ code: 'unauthorized' });
    expect(client.store.getState().outgoing).toMatchObject([{ status: 'failed', error: { code: 'unauthorized' } }]);
  });

  it('stops for good when the session is closed and fails what was pending', async () => {
    const peer = await startPeer();
    const client = clientOf(peer);
    client.connect();
    await opened(client);
    peer.swallowAcks = true;
    const pending = client.send('too late');
    await until(() => peer.messages.length === 1, 'stored');
    peer.closeSession();
    await expect(pending).rejects.toMatchObject({ code: 'not_found' });
    await until(() => client.state.status === 'closed', 'closed');
    expect(client.state).toMatchObject({ code: 4404 });
    expect(client.store.getState().sessionClosed).toBe(true);
    await sleep(150);
    expect(peer.chatConnections()).toBe(0);
  });

  it.each([1001, 1006, 4408])('reconnects after close code %i with lastSeq and receives what it missed', async (code) => {
    const peer = await startPeer();
    const client = clientOf(peer);
    const states = statesOf(client);
    client.connect();
    await opened(client);
    await client.send('before');
    peer.dropAll(code);
    await until(() => states.some((s) => s.status === 'reconnecting'), 'reconnecting');
    const reconnecting = states.find((s) => s.status === 'reconnecting');
    expect(reconnecting).toMatchObject({ attempt: 1, lastCloseCode: code });
    if (reconnecting?.status === 'reconnecting') expect(reconnecting.nextAttemptAt).toBeGreaterThanOrEqual(Date.now() - 1000);
    peer.post(randomUUID(), 'while away');
    await until(() => client.store.getState().messages.length === 2, 'replay');
    expect(peer.chatUrls.at(-1)).toContain('lastSeq=1');
    expect(client.store.getState().messages.map((m) => m.body)).toEqual(['before', 'while away']);
    expect(client.lastSeq).toBe(2);
  });

  it('resends an unacknowledged send after a reconnect with the same clientMsgId, storing it once', async () => {
    const peer = await startPeer();
    const client = clientOf(peer);
    client.connect();
    await opened(client);
    peer.swallowAcks = true;
    const acked = client.send('exactly once');
    await until(() => peer.messages.length === 1, 'stored');
    peer.swallowAcks = false;
    peer.dropAll(1006);
    const ack = await acked;
    expect(ack).toMatchObject({ id: peer.messages[0]?.id, seq: 1, clientMsgId: peer.messages[0]?.clientMsgId });
    expect(peer.messages).toHaveLength(1);
    await until(() => client.store.getState().messages.length === 1, 'message');
    expect(client.store.getState().outgoing).toEqual([]);
  });

  it('fills a hole in the live stream from history and keeps messages in seq order', async () => {
    const peer = await startPeer();
    const client = clientOf(peer);
    const gaps: { from: number; to: number }[] = [];
    client.on('gap', (g) => gaps.push(g));
    client.connect();
    await opened(client);
    const other = randomUUID();
    peer.post(other, 'one');
    peer.skipFanout.add(2).add(3);
    peer.post(other, 'two');
    peer.post(other, 'three');
    peer.post(other, 'four');
    await until(() => client.store.getState().messages.length === 4, 'all four');
    expect(client.store.getState().messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    expect(gaps).toEqual([{ from: 2, to: 4 }]);
    expect(client.lastSeq).toBe(4);
  });

  it('shows presence, joins, leaves and typing from the status route', async () => {
    const peer = await startPeer();
    const alice = clientOf(peer);
    alice.connect();
    await opened(alice);
    await until(() => alice.store.getState().online.length === 1, 'presence');
    const bobId = randomUUID();
    const bob = clientOf(peer, { token: `user:${bobId}` });
    bob.connect();
    await until(() => alice.store.getState().online.includes(bobId), 'join');
    expect(alice.store.getState().names[bobId]).toBe('Newcomer');
    await opened(bob);
    bob.typing();
    await until(() => bobId in alice.store.getState().typing, 'typing');
    bob.close();
    await until(() => !alice.store.getState().online.includes(bobId), 'leave');
  });

  it('waits while the browser is offline and reconnects at once when it is back', async () => {
    const peer = await startPeer();
    const environment = new FakeEnvironment();
    const client = clientOf(peer, { environment, backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    client.connect();
    await opened(client);
    environment.fire('offline');
    expect(client.state.status).toBe('offline');
    await until(() => peer.chatConnections() === 0, 'socket closed');
    environment.fire('online');
    await opened(client);
  });

  it('tries again at once when the page becomes visible during a backoff wait', async () => {
    const peer = await startPeer();
    const environment = new FakeEnvironment();
    const client = clientOf(peer, { environment, backoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    // Full jitter draws the wait uniformly below the bound; pin it near the top.
    const random = jest.spyOn(Math, 'random').mockReturnValue(0.99);
    try {
      client.connect();
      await opened(client);
      peer.dropAll(1001);
      await until(() => client.state.status === 'reconnecting', 'reconnecting');
      if (client.state.status === 'reconnecting') expect(client.state.nextAttemptAt - Date.now()).toBeGreaterThan(50_000);
      environment.fire('visible');
      await opened(client);
    } finally {
      random.mockRestore();
    }
  });

  it('loads older history page by page before the oldest message it holds', async () => {
    const peer = await startPeer();
    const other = randomUUID();
    for (let i = 1; i <= 5; i++) peer.post(other, `m${i}`);
    const client = clientOf(peer, { historyPageSize: 2 });
    client.connect();
    await opened(client);
    await client.loadOlder();
    expect(client.store.getState().messages.map((m) => m.seq)).toEqual([4, 5]);
    await client.loadOlder();
    await client.loadOlder();
    expect(client.store.getState().messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(client.store.getState().hasOlder).toBe(false);
  });

  it('sends pings and treats a silent connection as lost', async () => {
    const peer = await startPeer();
    const client = clientOf(peer, { heartbeatMs: 30 });
    let pongs = 0;
    client.on('pong', () => pongs++);
    client.connect();
    await opened(client);
    await until(() => pongs >= 2, 'two pongs');
    expect(client.state.status).toBe('open');
    peer.mute = true;
    await until(() => client.state.status === 'reconnecting', 'reconnecting');
    expect(client.state).toMatchObject({ lastCloseCode: 1006 });
    peer.mute = false;
    await opened(client);
  });

  it('moves to the next replica when the one it is on stops answering its heartbeat', async () => {
    const first = await startPeer();
    const second = await startPeer(first.sessionId);
    const client = clientOf(first, { wsUrl: [`ws://${first.base}`, `ws://${second.base}`], status: false, heartbeatMs: 30 });
    client.connect();
    await opened(client);
    first.mute = true;
    await until(() => second.chatConnections() === 1, 'reconnected to the second replica', 5_000);
    await opened(client);
    expect(first.chatUrls).toHaveLength(1);
  });

  describe('a send answered unavailable (its outcome unknown)', () => {
    it('is resent with the same clientMsgId and settles with the first id and seq when the first attempt was stored', async () => {
      const peer = await startPeer();
      const client = clientOf(peer, { resendAfterUnavailableMs: 20 });
      const errors: string[] = [];
      client.on('error', (frame) => errors.push(frame.code));
      client.connect();
      await opened(client);
      peer.storedButUnavailable = 'silent';
      const ack = await client.send('landed anyway');
      expect(errors).toEqual(['unavailable']);
      expect(peer.messages).toHaveLength(1);
      expect(ack).toMatchObject({ id: peer.messages[0]?.id, seq: 1, clientMsgId: peer.messages[0]?.clientMsgId });
      expect(client.store.getState().outgoing).toEqual([]);
    });

    it('settles with the stored copy it receives, even while every resend is refused', async () => {
      const peer = await startPeer();
      const client = clientOf(peer, { resendAfterUnavailableMs: 20 });
      client.connect();
      await opened(client);
      peer.storedButUnavailable = 'fanout';
      const sent = client.send('copy first');
      peer.allUnavailable = true;
      const ack = await sent;
      expect(ack).toMatchObject({ id: peer.messages[0]?.id, seq: 1 });
      expect(client.store.getState().messages.map((m) => m.body)).toEqual(['copy first']);
      expect(client.store.getState().outgoing).toEqual([]);
    });

    it('settles with the copy found in history when the live copy was missed', async () => {
      const peer = await startPeer();
      const client = clientOf(peer, { resendAfterUnavailableMs: 60_000 });
      client.connect();
      await opened(client);
      peer.storedButUnavailable = 'silent';
      const sent = client.send('only in history');
      await until(() => peer.messages.length === 1, 'stored');
      // Someone else's message reveals the hole at seq 1, which the client fills from history.
      peer.post(randomUUID(), 'after it');
      await expect(sent).resolves.toMatchObject({ id: peer.messages[0]?.id, seq: 1 });
    });

    it('stays pending while the service keeps answering unavailable, and is stored once when it recovers', async () => {
      const peer = await startPeer();
      const client = clientOf(peer, { resendAfterUnavailableMs: 20 });
      const errors: string[] = [];
      client.on('error', (frame) => errors.push(frame.code));
      client.connect();
      await opened(client);
      peer.allUnavailable = true;
      let settled = false;
      const sent = client.send('eventually');
      void sent.finally(() => (settled = true));
      await until(() => errors.length >= 3, 'three refusals');
      expect(settled).toBe(false);
      expect(client.store.getState().outgoing).toMatchObject([{ status: 'pending' }]);
      peer.allUnavailable = false;
      await expect(sent).resolves.toMatchObject({ seq: 1 });
      expect(peer.messages.map((m) => m.body)).toEqual(['eventually']);
    });

    it('retry() of a message the client already holds as stored resolves with its id and seq', async () => {
      const peer = await startPeer();
      const client = clientOf(peer);
      client.connect();
      await opened(client);
      peer.failNext = 'rate_limited';
      await expect(client.send('x')).rejects.toMatchObject({ code: 'rate_limited' });
      const [failed] = client.store.getState().outgoing;
      const ack = await client.retry(failed!.clientMsgId);
      await expect(client.retry(failed!.clientMsgId)).resolves.toMatchObject({ id: ack.id, seq: ack.seq });
      expect(peer.messages).toHaveLength(1);
    });
  });

  describe('a drain (1001 with a reconnect delay)', () => {
    it('waits the delay it was told, with no more than its jitter, then reconnects once to the next replica', async () => {
      const first = await startPeer();
      // Two replicas serving the same session.
      const second = await startPeer(first.sessionId);
      const client = clientOf(first, { wsUrl: [`ws://${first.base}`, `ws://${second.base}`], status: false });
      const states = statesOf(client);
      client.connect();
      await opened(client);
      const hintMs = 400;
      const drainedAt = Date.now();
      first.drain(hintMs);
      await until(() => states.some((s) => s.status === 'reconnecting'), 'reconnecting');
      const reconnecting = states.find((s) => s.status === 'reconnecting');
      expect(reconnecting).toMatchObject({ lastCloseCode: 1001, attempt: 1 });
      if (reconnecting?.status !== 'reconnecting') throw new Error('unreachable');
      expect(reconnecting.nextAttemptAt - drainedAt).toBeGreaterThanOrEqual(hintMs);
      expect(reconnecting.nextAttemptAt - drainedAt).toBeLessThanOrEqual(hintMs + hintMs * 0.1 + 200);
      await sleep(hintMs - 100);
      expect(second.chatConnections()).toBe(0);
      await until(() => second.chatConnections() === 1, 'reconnected to the second replica', 5_000);
      const connectedAt = Date.now();
      expect(connectedAt - drainedAt).toBeGreaterThanOrEqual(hintMs);
      await opened(client);
      expect(states.filter((s) => s.status === 'connecting')).toHaveLength(2);
      expect(first.chatUrls).toHaveLength(1);
      expect(second.chatUrls).toHaveLength(1);
    });

    it('treats a 1001 without a delay as any other drop: the usual backoff, the same address', async () => {
      const peer = await startPeer();
      const client = clientOf(peer, { status: false });
      const states = statesOf(client);
      client.connect();
      await opened(client);
      peer.dropAll(1001);
      await until(() => peer.chatUrls.length === 2 && client.state.status === 'open', 'reconnected');
      const reconnecting = states.find((s) => s.status === 'reconnecting');
      if (reconnecting?.status !== 'reconnecting') throw new Error('no reconnecting state');
      expect(reconnecting.nextAttemptAt - Date.now()).toBeLessThanOrEqual(100);
    });
  });
});
