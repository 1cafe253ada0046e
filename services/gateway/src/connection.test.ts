import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createTokenVerifier, signToken, type Principal } from '@chat/auth';
import { chatMetrics } from '@chat/telemetry';
import { Connection } from './connection.ts';
import { ExpirySweep } from './expiry-sweep.ts';
import type { GatewayLogger } from './gateway-logger.ts';
import { FakeSocket } from './testing/index.ts';

class RecordingLogger implements GatewayLogger {
  readonly errors: { object: object; message: string }[] = [];
  debug(): void {}
  info(): void {}
  warn(): void {}
  error(object: object, message: string): void {
    this.errors.push({ object, message });
  }
}

const secret = 'a-test-secret-that-is-long-enough-0123456789';
const verifier = createTokenVerifier({ secret });
const owner = randomUUID();
const expiries = new ExpirySweep();

class PlainConnection extends Connection {
  cleanedUp = 0;
  readonly logger: RecordingLogger;

  constructor(socket: FakeSocket, logger = new RecordingLogger(), principal: Principal = { userId: owner, scopes: [], admin: false }) {
    super(socket, principal, { slowConsumerBytes: 1000, closeTimeoutMs: 30, invalidFrameBurst: 2, metrics: chatMetrics(), logger, verifier, expiries }, 'chat');
    this.logger = logger;
  }

  renewWith(token: string): Promise<void> {
    return this.renew(token);
  }

  #handler: (text: string, binary: boolean) => void | Promise<void> = () => undefined;

  handleWith(handler: (text: string, binary: boolean) => void | Promise<void>): void {
    this.#handler = handler;
    this.listen();
  }

  protected override handleFrame(text: string, binary: boolean): void | Promise<void> {
    return this.#handler(text, binary);
  }

  protected override cleanUp(): Promise<void> {
    this.cleanedUp += 1;
    return Promise.resolve();
  }
}

describe('Connection', () => {
  it('closes a slow consumer with 4408 once its send buffer passes the limit, and writes nothing more', () => {
    const socket = new FakeSocket();
    socket.growPerSend = 400;
    const connection = new PlainConnection(socket);
    connection.write('"a"');
    connection.write('"b"');
    expect(socket.closedWith).toBeUndefined();
    connection.write('"c"');
    expect(socket.closedWith?.code).toBe(4408);
    connection.write('"d"');
    expect(socket.sent).toEqual(['"a"', '"b"', '"c"']);
  });

  it('drops a peer that does not finish the closing handshake in time', async () => {
    const socket = new FakeSocket();
    const connection = new PlainConnection(socket);
    connection.end(4408);
    expect(socket.terminated).toBe(false);
    await connection.done;
    expect(socket.terminated).toBe(true);
    expect(connection.cleanedUp).toBe(1);
  });

  it('pings on each heartbeat and drops a peer that missed the previous pong', () => {
    const socket = new FakeSocket();
    const connection = new PlainConnection(socket);
    connection.heartbeat();
    expect(socket.pings).toBe(1);
    socket.pong();
    connection.heartbeat();
    expect(socket.pings).toBe(2);
    expect(socket.terminated).toBe(false);
    connection.heartbeat();
    expect(socket.terminated).toBe(true);
  });

  it('answers malformed frames with an error, and closes with 1008 when they keep coming', () => {
    const socket = new FakeSocket();
    const connection = new PlainConnection(socket);
    connection.refuseFrame('invalid_frame', 'bad');
    connection.refuseFrame('invalid_frame', 'bad');
    expect(socket.frames()).toEqual([
      { type: 'error', code: 'invalid_frame', message: 'bad' },
      { type: 'error', code: 'invalid_frame', message: 'bad' },
    ]);
    expect(socket.closedWith).toBeUndefined();
    connection.refuseFrame('invalid_frame', 'bad');
    expect(socket.closedWith?.code).toBe(1008);
  });

  it('sends session_closed before closing with 4404', () => {
    const socket = new FakeSocket();
    new PlainConnection(socket).sessionClosed();
    expect(socket.frames()).toEqual([{ type: 'session_closed' }]);
    expect(socket.closedWith?.code).toBe(4404);
  });

  it('closes only this connection with 1011 and logs it when handling a frame throws', () => {
    const socket = new FakeSocket();
    const connection = new PlainConnection(socket);
    connection.handleWith(() => {
      throw new RangeError('Maximum call stack size exceeded');
    });
    expect(() => socket.receive('{}')).not.toThrow();
    expect(socket.closedWith?.code).toBe(1011);
    expect(connection.logger.errors).toHaveLength(1);
    expect(connection.logger.errors[0]?.object).toMatchObject({ err: expect.any(RangeError), connectionId: connection.id });
  });

  it('closes with 1011 when the work a frame started fails later, leaving no unhandled rejection', async () => {
    const socket = new FakeSocket();
    const connection = new PlainConnection(socket);
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      connection.handleWith(() => Promise.reject(new Error('store exploded')));
      socket.receive('{}');
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(socket.closedWith?.code).toBe(1011);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', record);
    }
  });

  it('cleans up once however often the socket reports its close', async () => {
    const socket = new FakeSocket();
    const connection = new PlainConnection(socket);
    socket.peerClosed(1000);
    socket.peerClosed(1000);
    await connection.done;
    expect(connection.cleanedUp).toBe(1);
  });

  describe('token expiry', () => {
    const expiringIn = (ms: number): Principal => ({ userId: owner, scopes: [], admin: false, expiresAt: Date.now() + ms });

    it('closes with 4401 "token expired" when the token runs out', async () => {
      const socket = new FakeSocket();
      new PlainConnection(socket, new RecordingLogger(), expiringIn(60));
      await sleep(20);
      expect(socket.closedWith).toBeUndefined();
      await sleep(80);
      expect(socket.closedWith).toEqual({ code: 4401, reason: 'token expired' });
    });

    it('keeps the connection past the old expiry once a fresh token of the same user arrives', async () => {
      const socket = new FakeSocket();
      const fresh = await signToken(secret, { userId: owner, ttlSeconds: 600 });
      const connection = new PlainConnection(socket, new RecordingLogger(), expiringIn(300));
      await connection.renewWith(fresh);
      expect(socket.frames()).toEqual([{ type: 'authenticated', expiresAt: expect.any(String) }]);
      const frame = { expiresAt: String(socket.frames()[0]?.['expiresAt']) };
      expect(Date.parse(frame.expiresAt)).toBeGreaterThan(Date.now() + 590_000);
      expect(connection.expiresAt).toBe(Date.parse(frame.expiresAt));
      await sleep(400);
      expect(socket.closedWith).toBeUndefined();
      connection.end(1000);
    });

    it('answers an invalid or expired token with unauthorized and keeps the old expiry', async () => {
      const socket = new FakeSocket();
      const otherKey = await signToken('another-secret-that-is-also-long-enough-xyz', { userId: owner });
      const expired = await signToken(secret, { userId: owner, ttlSeconds: -10 });
      const connection = new PlainConnection(socket, new RecordingLogger(), expiringIn(500));
      const before = connection.expiresAt;
      await connection.renewWith('not-a-token');
      await connection.renewWith(otherKey);
      await connection.renewWith(expired);
      expect(socket.frames()).toEqual([
        { type: 'error', code: 'unauthorized', message: expect.stringContaining('refused') },
        { type: 'error', code: 'unauthorized', message: expect.stringContaining('refused') },
        { type: 'error', code: 'unauthorized', message: expect.stringContaining('expired') },
      ]);
      expect(connection.expiresAt).toBe(before);
      expect(socket.closedWith).toBeUndefined();
      await sleep(Math.max(0, (before ?? 0) - Date.now()) + 100);
      expect(socket.closedWith?.code).toBe(4401);
    });

    it('refuses a token of another user with forbidden and closes with 4403', async () => {
      const socket = new FakeSocket();
      const stranger = await signToken(secret, { userId: randomUUID(), ttlSeconds: 600 });
      const connection = new PlainConnection(socket, new RecordingLogger(), expiringIn(60_000));
      const before = connection.expiresAt;
      await connection.renewWith(stranger);
      expect(socket.frames()).toEqual([{ type: 'error', code: 'forbidden', message: expect.stringContaining('another user') }]);
      expect(socket.closedWith?.code).toBe(4403);
      expect(connection.expiresAt).toBe(before);
    });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
