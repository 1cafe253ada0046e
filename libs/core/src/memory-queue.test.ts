import { randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { ChatMessage } from '@chat/protocol';
import { MemoryQueue } from './memory-queue.ts';

const message = (sessionId: string, seq: number): ChatMessage => ({
  type: 'message',
  id: randomUUID(),
  sessionId,
  seq,
  userId: sessionId,
  body: `m${seq}`,
  metadata: {},
  timestamp: new Date(0).toISOString(),
});

describe('MemoryQueue range', () => {
  it('keeps an acked message readable for the retention, and an unacked one until it is acked', async () => {
    let now = 0;
    const queue = new MemoryQueue({ settledRetentionMs: 1_000, now: () => now });
    const sessionId = randomUUID();
    await queue.publish(message(sessionId, 1));
    await queue.publish(message(sessionId, 2));
    const controller = new AbortController();
    await queue.consumer({ batchSize: 1 }).run(controller.signal, (batch) => {
      for (const item of batch) item.ack();
      controller.abort();
      return Promise.resolve();
    });

    now = 999;
    await queue.publish(message(sessionId, 3));
    expect((await queue.range(sessionId, 0, 10, 10)).map((m) => m.seq)).toEqual([1, 2, 3]);
    now = 5_000;
    await queue.publish(message(sessionId, 4));
    expect((await queue.range(sessionId, 0, 10, 10)).map((m) => m.seq)).toEqual([2, 3, 4]);
    await queue.close();
  });
});
