import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { ChatMessage } from '@chat/protocol';
import { silentLogger } from './gateway-logger.ts';
import { SessionFeed } from './session-feed.ts';

const sessionId = randomUUID();

function message(seq: number): ChatMessage {
  return { type: 'message', id: randomUUID(), sessionId, seq, userId: randomUUID(), body: `m${seq}`, metadata: {}, timestamp: new Date().toISOString() };
}

function frame(seq: number): Buffer {
  return Buffer.from(JSON.stringify(message(seq)));
}

function feed(options: { recent?: ChatMessage[]; gapFillMs?: number; gapSkipMs?: number } = {}) {
  const released: number[] = [];
  const reads: number[] = [];
  const made = new SessionFeed({
    sessionId,
    gapFillMs: options.gapFillMs ?? 20,
    gapSkipMs: options.gapSkipMs ?? 200,
    logger: silentLogger,
    fetchRecent: (afterSeq) => {
      reads.push(afterSeq);
      return Promise.resolve((options.recent ?? []).filter((m) => m.seq > afterSeq));
    },
    release: (seq) => released.push(seq),
  });
  return { made, released, reads };
}

// The fill and skip bounds are timers: a fake clock puts each check exactly before or after a bound,
// however slow the machine. Async advances let a fill's read resolve before the next check.
beforeEach(() => {
  jest.useFakeTimers();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('SessionFeed', () => {
  it('delivers N before N+1 when they arrive swapped', () => {
    const { made, released } = feed();
    made.start(10);
    made.push(12, frame(12));
    expect(released).toEqual([]);
    made.push(11, frame(11));
    expect(released).toEqual([11, 12]);
    made.stop();
  });

  it('holds what arrives before its start is known, then releases it in order', () => {
    const { made, released } = feed();
    made.push(3, frame(3));
    made.push(2, frame(2));
    made.start(1);
    expect(released).toEqual([2, 3]);
    made.stop();
  });

  it('fills a gap that stays open from the recent messages of live state', async () => {
    const { made, released, reads } = feed({ recent: [message(5), message(6), message(7)] });
    made.start(4);
    made.push(7, frame(7));
    await jest.advanceTimersByTimeAsync(19);
    expect(reads).toEqual([]);
    expect(released).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(reads).toEqual([4]);
    expect(released).toEqual([5, 6, 7]);
    made.stop();
  });

  it('skips a seq that never turns up after the longer bound, keeping the order of the rest', async () => {
    const { made, released } = feed({ gapFillMs: 10, gapSkipMs: 80 });
    made.start(0);
    made.push(1, frame(1));
    made.push(3, frame(3));
    made.push(4, frame(4));
    await jest.advanceTimersByTimeAsync(79);
    expect(released).toEqual([1]);
    await jest.advanceTimersByTimeAsync(1);
    expect(released).toEqual([1, 3, 4]);
    made.push(2, frame(2));
    made.push(5, frame(5));
    // 2 is older than the feed now: passed on for connections to drop or use; 5 follows 4.
    expect(released).toEqual([1, 3, 4, 2, 5]);
    made.stop();
  });

  it('passes on a message older than its start, for connections still catching up', () => {
    const { made, released } = feed();
    made.start(10);
    made.push(9, frame(9));
    made.push(11, frame(11));
    expect(released).toEqual([9, 11]);
    made.stop();
  });
});

describe('SessionFeed at the tail', () => {
  it('reads messages whose fan-out was lost with nothing after them, once told the head', async () => {
    const { made, released } = feed({ recent: [message(1), message(2)] });
    made.start(0);
    made.expect(2);
    await jest.advanceTimersByTimeAsync(19);
    expect(released).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(released).toEqual([1, 2]);
    made.stop();
  });

  it('gives up on a tail seq that never becomes readable (a send that failed), then goes on', async () => {
    const { made, released } = feed({ gapFillMs: 10, gapSkipMs: 50 });
    made.start(0);
    made.expect(1);
    await jest.advanceTimersByTimeAsync(49);
    made.push(2, frame(2));
    expect(released).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(released).toEqual([2]);
    made.stop();
  });
});
