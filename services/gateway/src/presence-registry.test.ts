import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { Bus, MemberJoin, PresenceEntry, SessionPresence } from '@chat/core';
import { silentLogger } from './gateway-logger.ts';
import { PresenceRegistry } from './presence-registry.ts';

const bus: Bus = { publish: () => Promise.resolve(), subscribe: () => Promise.resolve(), unsubscribe: () => Promise.resolve(), ping: () => Promise.resolve(), close: () => Promise.resolve() };

/** Live state that records each refresh call and fails the ones listed. */
function recordingState(failing: ReadonlySet<number> = new Set()): { state: SessionPresence; calls: PresenceEntry[][]; mostAtOnce: () => number } {
  const calls: PresenceEntry[][] = [];
  let active = 0;
  let most = 0;
  const state: SessionPresence = {
    presenceJoinMember: () => Promise.resolve({ membership: 'member', head: 0, joined: true, first: false }),
    presenceLeave: (entries) => Promise.resolve(entries.map(() => false)),
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
        await Promise.all(entries.map((e) => registry.joinMember(e, false)));
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
    await Promise.all(Array.from({ length: 1_200 }, (_, i) => registry.joinMember(entry(i), false)));
    await registry.refresh();
    expect(calls.map((call) => call.length)).toEqual([500, 500]);
    expect(warnings).toEqual(['presence refresh failed']);
    await registry.refresh();
    expect(calls.slice(2).map((call) => call.length)).toEqual([500, 500, 200]);
  });
});

describe('PresenceRegistry.joinMember', () => {
  /** State whose member joins answer `answer` (or fail), counting leaves; and a bus that records what it is given. */
  function setUp(answer: MemberJoin | Error, publishesPresence = false) {
    const leaves: string[] = [];
    const published: string[] = [];
    const { state: base } = recordingState();
    const state: SessionPresence = {
      ...base,
      presenceJoinMember: () => (answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer)),
      presenceLeave: (left) => {
        leaves.push(...left.map((e) => e.connectionId));
        return Promise.resolve(left.map(() => true));
      },
      publishesPresence,
    };
    const recordingBus: Bus = { ...bus, publish: (_sessionId, event) => {
      published.push(event);
      return Promise.resolve();
    } };
    return { registry: new PresenceRegistry({ state, bus: recordingBus, ttlMs: 30_000, logger: silentLogger }), leaves, published, state };
  }

  it('announces a first join, and a last leave on close', async () => {
    const { registry, leaves, published } = setUp({ membership: 'member', head: 3, joined: true, first: true });
    expect(await registry.joinMember(entry(1), false)).toEqual({ membership: 'member', head: 3, joined: true, first: true });
    expect(published).toEqual([JSON.stringify({ type: 'join', userId: 'u1' })]);
    await registry.leave(entry(1));
    expect(leaves).toEqual(['c1']);
    expect(published).toEqual([JSON.stringify({ type: 'join', userId: 'u1' }), JSON.stringify({ type: 'leave', userId: 'u1' })]);
  });

  it('publishes no join or leave itself when live state publishes them with the join and leave', async () => {
    const { registry, leaves, published, state } = setUp({ membership: 'member', head: 3, joined: true, first: true }, true);
    expect(state.publishesPresence).toBe(true);
    expect((await registry.joinMember(entry(4), false)).first).toBe(true);
    await registry.joinMember(entry(5), false);
    await registry.leave(entry(4));
    expect(leaves).toEqual(['c4']);
    expect(published).toEqual([]);
  });

  it('announces nothing and sends no leave for a connection that was not joined', async () => {
    const { registry, leaves, published } = setUp({ membership: 'not_member', head: 3, joined: false, first: false });
    expect((await registry.joinMember(entry(2), false)).joined).toBe(false);
    await registry.leave(entry(2));
    expect(published).toEqual([]);
    expect(leaves).toEqual([]);
  });

  it('throws a failed join, and still leaves on close in case it took effect', async () => {
    const { registry, leaves } = setUp(new Error('redis down'));
    await expect(registry.joinMember(entry(3), false)).rejects.toThrow('redis down');
    await registry.leave(entry(3));
    expect(leaves).toEqual(['c3']);
  });
});

describe('PresenceRegistry.leave', () => {
  /** State that records each leave call and fails the first `failures` of them. */
  function leavingState(failures: number) {
    const calls: string[][] = [];
    let active = 0;
    let most = 0;
    const { state: base } = recordingState();
    const state: SessionPresence = {
      ...base,
      presenceLeave: async (entries) => {
        calls.push(entries.map((e) => e.connectionId));
        active += 1;
        most = Math.max(most, active);
        await new Promise((resolve) => setImmediate(resolve));
        active -= 1;
        if (calls.length <= failures) throw new Error('Command timed out');
        return entries.map(() => false);
      },
    };
    return { state, calls, mostAtOnce: () => most };
  }

  it('sends the leaves of one turn together, in calls of at most 1,000, one after the other', async () => {
    const { state, calls, mostAtOnce } = leavingState(0);
    const registry = new PresenceRegistry({ state, bus, ttlMs: 30_000, logger: silentLogger });
    const entries = Array.from({ length: 2_500 }, (_, i) => entry(i));
    await Promise.all(entries.map((e) => registry.joinMember(e, false)));
    // A mass close: every socket's clean-up asks for its leave in the same turn.
    await Promise.all(entries.map((e) => registry.leave(e)));
    expect(calls.map((call) => call.length)).toEqual([1_000, 1_000, 500]);
    expect(calls.flat()).toEqual(entries.map((e) => e.connectionId));
    expect(mostAtOnce()).toBe(1);
  });

  it('sends a failed leave again until it goes through, and logs no failure then', async () => {
    const { state, calls } = leavingState(2);
    const warnings: string[] = [];
    const registry = new PresenceRegistry({ state, bus, ttlMs: 30_000, logger: { ...silentLogger, warn: (_context, message) => warnings.push(message) } });
    const entries = Array.from({ length: 30 }, (_, i) => entry(i));
    await Promise.all(entries.map((e) => registry.joinMember(e, false)));
    await Promise.all(entries.map((e) => registry.leave(e)));
    expect(calls).toHaveLength(3);
    expect(calls[2]).toEqual(entries.map((e) => e.connectionId));
    expect(warnings).toEqual([]);
  });

  it('gives up once the leases would have lapsed, says so once, and still settles', async () => {
    const { state, calls } = leavingState(Number.POSITIVE_INFINITY);
    const warnings: string[] = [];
    const registry = new PresenceRegistry({ state, bus, ttlMs: 250, logger: { ...silentLogger, warn: (_context, message) => warnings.push(message) } });
    await Promise.all([entry(1), entry(2)].map((e) => registry.joinMember(e, false)));
    await Promise.all([entry(1), entry(2)].map((e) => registry.leave(e)));
    expect(calls.length).toBeGreaterThan(1);
    expect(warnings).toEqual(['presence leave failed; the leases lapse and the sweep clears them']);
  });
});
