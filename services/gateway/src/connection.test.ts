import { describe, expect, it } from '@jest/globals';
import { chatMetrics } from '@chat/telemetry';
import { Connection, type FrameHandler } from './connection.ts';
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

class PlainConnection extends Connection {
  cleanedUp = 0;
  readonly logger: RecordingLogger;

  constructor(socket: FakeSocket, logger = new RecordingLogger()) {
    super(socket, { slowConsumerBytes: 1000, closeTimeoutMs: 30, invalidFrameBurst: 2, metrics: chatMetrics(), logger }, 'chat');
    this.logger = logger;
  }

  handleWith(handler: FrameHandler): void {
    this.listen(handler);
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
});
