import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createSession, memoryBackends, rawWebSocket, startMemoryGateway, token, type StartedGateway } from './testing/index.ts';

let backends: ReturnType<typeof memoryBackends>;
let started: StartedGateway;

beforeEach(async () => {
  backends = memoryBackends();
  started = await startMemoryGateway(backends, { env: { SLOW_CONSUMER_BYTES: String(256 * 1024) } });
});

afterEach(async () => {
  await started.gateway.stop();
});

it('drops a socket whose send buffer passes SLOW_CONSUMER_BYTES', async () => {
  const alice = randomUUID();
  const sessionId = await createSession(backends.store, [alice]);
  const stalled = await rawWebSocket(started.gateway.address().port, `/ws/chat/${sessionId}?token=${await token({ userId: alice })}`);
  const gone = new Promise<void>((resolve) => stalled.once('close', () => resolve()));
  expect(started.gateway.connectionCount).toBe(1);

  const bus = backends.hub.bus();
  const body = 'x'.repeat(4000);
  for (let seq = 1; seq <= 4000 && started.gateway.connectionCount > 0; seq++) {
    const message = { type: 'message', id: randomUUID(), sessionId, seq, userId: alice, body, metadata: {}, timestamp: new Date().toISOString() };
    await bus.publish(sessionId, JSON.stringify(message));
    if (seq % 200 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  stalled.resume();
  await gone;
  for (let waited = 0; started.gateway.connectionCount > 0 && waited < 2_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(started.gateway.connectionCount).toBe(0);
});
