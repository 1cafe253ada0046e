import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createSession, memoryBackends, startMemoryGateway, TestClient, token, type StartedGateway } from './testing/index.ts';

let backends: ReturnType<typeof memoryBackends>;
let started: StartedGateway;
const clients: TestClient[] = [];

beforeEach(async () => {
  backends = memoryBackends();
  started = await startMemoryGateway(backends, { env: { MAX_CONNECTIONS_PER_USER: '2', MAX_CONNECTIONS_PER_IP: '3' } });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await started.gateway.stop();
});

async function open(sessionId: string, userId: string): Promise<TestClient> {
  const client = new TestClient(started.url(`/ws/chat/${sessionId}?token=${await token({ userId })}`));
  clients.push(client);
  await Promise.race([client.nextOfType('welcome'), client.closed]);
  return client;
}

describe('connection caps (finding 3)', () => {
  it('refuses a user past MAX_CONNECTIONS_PER_USER with 4429, and admits again once one closes', async () => {
    const alice = randomUUID();
    const sessionId = await createSession(backends.store, [alice]);
    const first = await open(sessionId, alice);
    await open(sessionId, alice);
    const third = await open(sessionId, alice);
    expect((await third.closed).code).toBe(4429);
    first.close();
    await first.closed;
    for (let attempt = 0; ; attempt++) {
      const again = await open(sessionId, alice);
      if (again.ofType('welcome').length === 1) break;
      if (attempt > 20) throw new Error('the freed slot was never given back');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it('refuses a client address past MAX_CONNECTIONS_PER_IP with 4429, whoever the users are', async () => {
    const users = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const sessionId = await createSession(backends.store, users);
    const opened = [];
    for (const user of users) opened.push(await open(sessionId, user));
    expect(opened.slice(0, 3).every((client) => client.ofType('welcome').length === 1)).toBe(true);
    expect((await opened[3]?.closed)?.code).toBe(4429);
  });
});
