import { describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { MemoryBus, MemoryHub, type SessionState } from '@chat/core';
import { chatMetrics } from '@chat/telemetry';
import { silentLogger } from './gateway-logger.ts';
import { LocalSessions, type SessionMember } from './local-sessions.ts';

const member: SessionMember = { kind: 'chat', receiveMessage: () => undefined, receiveEvent: () => undefined, sessionClosed: () => undefined };

/** Live state that answers `head` a tick later and remembers how many reads were in flight at once. */
function countingState(): { state: SessionState; reads: () => number; mostAtOnce: () => number } {
  let inFlight = 0;
  let most = 0;
  let reads = 0;
  const head = async (): Promise<number> => {
    inFlight += 1;
    reads += 1;
    most = Math.max(most, inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    inFlight -= 1;
    return 0;
  };
  return { state: { head } as unknown as SessionState, reads: () => reads, mostAtOnce: () => most };
}

describe('the tail check over local sessions', () => {
  it('reads every session head, but never more than 200 at once', async () => {
    const counting = countingState();
    const sessions = new LocalSessions({ bus: new MemoryBus(new MemoryHub()), state: counting.state, timing: { gapFillMs: 300, gapSkipMs: 5_000 }, logger: silentLogger, metrics: chatMetrics() });
    for (let i = 0; i < 450; i++) await sessions.attach(randomUUID(), member);
    const readsBefore = counting.reads();
    await sessions.checkTails();
    expect(counting.reads() - readsBefore).toBe(450);
    expect(counting.mostAtOnce()).toBe(200);
  });
});
