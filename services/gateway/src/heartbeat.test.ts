import { afterEach, beforeEach, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createSession, memoryBackends, rawWebSocket, startMemoryGateway, TestClient, token, type StartedGateway } from './testing/index.ts';

let backends: ReturnType<typeof memoryBackends>;
let started: StartedGateway;

beforeEach(async () => {
  backends = memoryBackends();
  started = await startMemoryGateway(backends, { env: { HEARTBEAT_INTERVAL_MS: '100' } });
});

afterEach(async () => {
  await started.gateway.stop();
});

it('drops a peer that does not answer pings, and keeps one that does', async () => {
  const alice = randomUUID();
  const sessionId = await createSession(backends.store, [alice]);
  const path = `/ws/chat/${sessionId}?token=${await token({ userId: alice })}`;
  const silent = await rawWebSocket(started.gateway.address().port, path);
  // Listened for at once: on a slow machine the drop may come before the other client's welcome.
  const silentClosed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
  silent.resume();
  const answering = new TestClient(started.url(path));
  await answering.nextOfType('welcome');

  await silentClosed;
  await new Promise((resolve) => setTimeout(resolve, 300));
  answering.send({ type: 'ping' });
  await expect(answering.nextOfType('pong')).resolves.toEqual({ type: 'pong' });
  expect(started.gateway.connectionCount).toBe(1);
  answering.close();
});
