import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Bus, PresenceEntry, SessionPresence } from '@chat/core';
import { silentLogger } from './gateway-logger.ts';
import { PresenceRegistry } from './presence-registry.ts';

const bus: Bus = { publish: () => Promise.resolve(), subscribe: () => Promise.resolve(), unsubscribe: () => Promise.resolve(), ping: () => Promise.resolve(), close: () => Promise.resolve() };

/** Live state that records each refresh call and fails the ones listed. */
function recordingState(failing: ReadonlySet<number> = new Set()): { state: SessionPresence; calls: PresenceEntry[][]; mostAtOnce: () => number } {
  const calls: PresenceEntry[][] = [];
  let active = 0;
  let most = 0;
  const state: SessionPresence = {
    presenceJoin: () => Promise.resolve(false),
    presenceLeave: () => Promise.resolve(false),
    presenceRefresh: async (entries) => {
      calls.push([...entries]);
      const failed = failing.has(calls.length - 1);
      active += 1;
      most = Math.max(most, active);
      await new Promise((resolve) => setImmediate(resolve));
      active -= 1;
      if (failed) throw new Error('redis down');
    },
    presenceOnline: () => Promise.resolve([]),
    presenceSweep: () => Promise.resolve([]),
    lastConnected: () => Promise.resolve(new Map()),
  };
  return { state, calls, mostAtOnce: () => most };
}

function entry(i: number): PresenceEntry {
  return { sessionId: `s${String(i % 7)}`, userId: `u${String(i)}`, connectionId: `c${String(i)}` };
}

describe('PresenceRegistry.refresh', () => {
  it('extends every joined lease once, in calls of at most 500, one after the other', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1_600 }), async (count) => {
        const { state, calls, mostAtOnce } = recordingState();
        const registry = new PresenceRegistry({ state, bus, ttlMs: 30_000, logger: silentLogger });
        const entries = Array.from({ length: count }, (_, i) => entry(i));
        await Promise.all(entries.map((e) => registry.join(e)));
        await registry.refresh();
        expect(calls.flat().map((e) => e.connectionId)).toEqual(entries.map((e) => e.connectionId));
        expect(calls.every((call) => call.length > 0 && call.length <= 500)).toBe(true);
        expect(calls.length).toBe(Math.ceil(count / 500));
        expect(mostAtOnce()).toBeLessThanOrEqual(1);
      }),
      { numRuns: 20 },
    );
  });

  it('stops at a failed call and says so; the next refresh starts over', async () => {
    const { state, calls } = recordingState(new Set([1]));
    const warnings: string[] = [];
    const registry = new PresenceRegistry({ state, bus, ttlMs: 30_000, logger: { ...silentLogger, warn: (_context, message) => warnings.push(message) } });
    await Promise.all(Array.from({ length: 1_200 }, (_, i) => registry.join(entry(i))));
    await registry.refresh();
    expect(calls.map((call) => call.length)).toEqual([500, 500]);
    expect(warnings).toEqual(['presence refresh failed']);
    await registry.refresh();
    expect(calls.slice(2).map((call) => call.length)).toEqual([500, 500, 200]);
  });
});
