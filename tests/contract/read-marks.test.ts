import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { TestClient } from '@chat/gateway/testing';
import type { HistoryResponse } from '@chat/protocol';
import { NATS, POSTGRES, REDIS, realServicesAvailable } from '../support/services.ts';
import type { StackKind } from '../support/stack.ts';
import { Harness, sleep } from './harness.ts';

const kinds: StackKind[] = (await realServicesAvailable(POSTGRES, REDIS, NATS)) ? ['embedded', 'services'] : ['embedded'];

async function sendAll(client: TestClient, count: number, prefix: string): Promise<void> {
  for (let i = 1; i <= count; i++) client.send({ type: 'send', clientMsgId: `${prefix}${i}`, body: `message ${i}` });
  await client.take('ack', count);
}

describe.each(kinds)('read marks over the %s backend', (kind) => {
  const h = Harness.forSuite(kind);

  async function history(sessionId: string, userId: string): Promise<{ status: number; body: HistoryResponse & { error?: { code: string } } }> {
    return h.api('GET', `/api/chat/history/${sessionId}`, { token: await h.stack.token(userId) });
  }

  it('moves the cursor forward, stores it, relays it to status sockets on both replicas and carries it in history', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const sessionId = await h.createSession([alice, bob]);
    const aliceChat = await h.chat(0, sessionId, alice);
    await sendAll(aliceChat, 3, 'a');
    const bobStatus = h.open(1, `/ws/status/${sessionId}?token=${await h.stack.token(bob)}`);
    await bobStatus.nextOfType('presence');
    const bobChat = await h.chat(0, sessionId, bob);
    bobChat.send({ type: 'read', seq: 2 });
    await expect(bobStatus.nextOfType('read')).resolves.toEqual({ type: 'read', userId: bob, seq: 2 });
    bobChat.send({ type: 'read', seq: 3 });
    await expect(bobStatus.nextOfType('read')).resolves.toEqual({ type: 'read', userId: bob, seq: 3 });
    const page = await history(sessionId, alice);
    expect(page.status).toBe(200);
    expect(page.body.reads).toEqual([{ userId: bob, seq: 3 }]);
    // Nothing was answered to the sender for a mark that moved.
    expect(bobChat.ofType('error')).toEqual([]);
  });

  it('refuses a cursor moved backwards or past the head with a clear error, and changes nothing', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const sessionId = await h.createSession([alice, bob]);
    const aliceChat = await h.chat(0, sessionId, alice);
    await sendAll(aliceChat, 4, 'b');
    const aliceStatus = h.open(1, `/ws/status/${sessionId}?token=${await h.stack.token(alice)}`);
    await aliceStatus.nextOfType('presence');
    const bobChat = await h.chat(1, sessionId, bob);
    bobChat.send({ type: 'read', seq: 3 });
    await aliceStatus.nextOfType('read');

    bobChat.send({ type: 'read', seq: 1 });
    const backwards = await bobChat.nextOfType('error');
    expect(backwards).toMatchObject({ code: 'conflict' });
    expect(backwards['message']).toMatch(/at 3 already and only moves forward/);

    bobChat.send({ type: 'read', seq: 5 });
    const pastHead = await bobChat.nextOfType('error');
    expect(pastHead).toMatchObject({ code: 'invalid_input' });
    expect(pastHead['message']).toMatch(/seq 5 is past the session's last message \(4\)/);

    // The same seq again is no move: no error, no relay.
    bobChat.send({ type: 'read', seq: 3 });
    for (const bad of [{ type: 'read', seq: -1 }, { type: 'read', seq: 1.5 }, { type: 'read' }, { type: 'read', seq: '4' }]) {
      bobChat.send(bad);
      await expect(bobChat.nextOfType('error')).resolves.toMatchObject({ code: 'invalid_frame' });
    }
    await sleep(300);
    expect(aliceStatus.ofType('read')).toHaveLength(1);
    expect((await history(sessionId, alice)).body.reads).toEqual([{ userId: bob, seq: 3 }]);
  });

  it('keeps each member their own cursor; racing marks end at the highest', async () => {
    const [alice, bob] = [randomUUID(), randomUUID()];
    const sessionId = await h.createSession([alice, bob]);
    const aliceChat = await h.chat(0, sessionId, alice);
    await sendAll(aliceChat, 20, 'c');
    const bobTabs = [await h.chat(0, sessionId, bob), await h.chat(1, sessionId, bob)];
    for (let seq = 1; seq <= 20; seq++) bobTabs[seq % 2]!.send({ type: 'read', seq });
    aliceChat.send({ type: 'read', seq: 7 });
    const deadline = Date.now() + 5_000;
    let reads: HistoryResponse['reads'] = [];
    while (Date.now() < deadline) {
      reads = (await history(sessionId, bob)).body.reads;
      if (reads?.find((r) => r.userId === bob)?.seq === 20 && reads.some((r) => r.userId === alice)) break;
      await sleep(50);
    }
    expect(reads).toEqual(expect.arrayContaining([{ userId: bob, seq: 20 }, { userId: alice, seq: 7 }]));
    expect(reads).toHaveLength(2);
  });

  it("refuses someone else's cursors to a caller who is not a member, and a status socket to them", async () => {
    const [alice, outsider] = [randomUUID(), randomUUID()];
    const sessionId = await h.createSession([alice]);
    const aliceChat = await h.chat(0, sessionId, alice);
    await sendAll(aliceChat, 1, 'd');
    aliceChat.send({ type: 'read', seq: 1 });
    const refused = await history(sessionId, outsider);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'forbidden' });
    expect(refused.body.reads).toBeUndefined();
    const status = h.open(0, `/ws/status/${sessionId}?token=${await h.stack.token(outsider)}`);
    await expect(status.closed).resolves.toMatchObject({ code: 4403 });
    // An admin (the finance backend) may read them.
    const deadline = Date.now() + 5_000;
    let asAdmin = await h.api<HistoryResponse>('GET', `/api/chat/history/${sessionId}`, { token: await h.adminToken() });
    while (asAdmin.body.reads?.length !== 1 && Date.now() < deadline) {
      await sleep(50);
      asAdmin = await h.api<HistoryResponse>('GET', `/api/chat/history/${sessionId}`, { token: await h.adminToken() });
    }
    expect(asAdmin.body.reads).toEqual([{ userId: alice, seq: 1 }]);
  });
});
