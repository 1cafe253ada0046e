import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Bus } from '@chat/core';
import { busBackends } from './live-backends.ts';

/** Collects payloads and waits until a wanted one arrives. */
function inbox() {
  const received: string[] = [];
  const waiters: { until: (payloads: string[]) => boolean; resolve: () => void }[] = [];
  return {
    received,
    take: (payload: string) => {
      received.push(payload);
      for (const waiter of [...waiters]) {
        if (waiter.until(received)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    },
    waitFor(until: (payloads: string[]) => boolean, timeoutMs = 5_000): Promise<void> {
      if (until(received)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; received ${JSON.stringify(received)}`)), timeoutMs);
        waiters.push({ until, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
  };
}

for (const backend of await busBackends()) {
  (backend.available ? describe : describe.skip)(`Bus contract on ${backend.name}`, () => {
    // Two buses stand for two replicas: one publishes, the other listens.
    let publisher: Bus;
    let listener: Bus;

    beforeAll(async () => {
      await backend.start?.();
      publisher = backend.open();
      listener = backend.open();
    }, 60_000);

    afterAll(async () => {
      await Promise.all([publisher.close(), listener.close()]);
      await backend.close();
    });

    it('delivers payloads published by another replica in publish order', async () => {
      const sessionId = randomUUID();
      const box = inbox();
      await listener.subscribe(sessionId, box.take);
      const payloads = Array.from({ length: 200 }, (_, index) => JSON.stringify({ seq: index + 1 }));
      await Promise.all(payloads.map((payload) => publisher.publish(sessionId, payload)));
      await box.waitFor((received) => received.length >= payloads.length);
      expect(box.received).toEqual(payloads);
    });

    it('delivers to a subscriber in the publishing process too', async () => {
      const sessionId = randomUUID();
      const box = inbox();
      await publisher.subscribe(sessionId, box.take);
      await publisher.publish(sessionId, 'own');
      await box.waitFor((received) => received.includes('own'));
      expect(box.received).toEqual(['own']);
      await publisher.unsubscribe(sessionId);
    });

    it('keeps one subscription per session: subscribing again replaces the handler, with no double delivery', async () => {
      const sessionId = randomUUID();
      const first = inbox();
      const second = inbox();
      await listener.subscribe(sessionId, first.take);
      await Promise.all([listener.subscribe(sessionId, second.take), listener.subscribe(sessionId, second.take)]);
      await publisher.publish(sessionId, 'a');
      await publisher.publish(sessionId, 'b');
      await second.waitFor((received) => received.includes('b'));
      expect(second.received).toEqual(['a', 'b']);
      expect(first.received).toEqual([]);
    });

    it('stops delivering after unsubscribe, and delivers again after a new subscribe', async () => {
      const sessionId = randomUUID();
      const marker = randomUUID();
      const box = inbox();
      const markerBox = inbox();
      await listener.subscribe(sessionId, box.take);
      await listener.subscribe(marker, markerBox.take);
      await listener.unsubscribe(sessionId);
      await listener.unsubscribe(sessionId);
      await publisher.publish(sessionId, 'lost');
      // The marker goes out after 'lost' from the same publisher, so once it arrives 'lost' would have too.
      await publisher.publish(marker, 'marker');
      await markerBox.waitFor((received) => received.includes('marker'));
      expect(box.received).toEqual([]);

      await listener.subscribe(sessionId, box.take);
      await publisher.publish(sessionId, 'back');
      await box.waitFor((received) => received.includes('back'));
      expect(box.received).toEqual(['back']);
    });

    it('keeps sessions apart', async () => {
      const [mine, other] = [randomUUID(), randomUUID()];
      const box = inbox();
      await listener.subscribe(mine, box.take);
      await publisher.publish(other, 'not for me');
      await publisher.publish(mine, 'for me');
      await box.waitFor((received) => received.includes('for me'));
      expect(box.received).toEqual(['for me']);
    });

    it('accepts an unsubscribe of a session it never subscribed to', async () => {
      await expect(listener.unsubscribe(randomUUID())).resolves.toBeUndefined();
    });

    it('answers ping', async () => {
      await expect(publisher.ping()).resolves.toBeUndefined();
      await expect(listener.ping()).resolves.toBeUndefined();
    });
  });
}
