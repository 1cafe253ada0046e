import { describe, expect, it } from '@jest/globals';
import { reconnectDelay } from './redis-connection.ts';
import { dedupeKey, sessionKeys } from './redis-session-state.ts';
import { sessionChannel } from './redis-bus.ts';

describe('reconnectDelay', () => {
  it('backs off exponentially from 100 ms and never waits more than 2 s, however long Redis stays away', () => {
    expect([1, 2, 3, 4, 5].map(reconnectDelay)).toEqual([100, 200, 400, 800, 1600]);
    expect(reconnectDelay(6)).toBe(2_000);
    expect(reconnectDelay(10_000)).toBe(2_000);
  });
});

describe('session keys', () => {
  it('put every key and the channel of a session under the same literal {id} hash tag', () => {
    const names = [...Object.values(sessionKeys('abc')), dedupeKey('abc', 7), sessionChannel('abc')];
    expect(names).toContain('sessions:{abc}:messages');
    expect(names).toContain('sessions:{abc}:users');
    expect(names).toContain('sessions:{abc}:metadata');
    expect(names).toContain('sessions:{abc}:events');
    for (const name of names) expect(name.startsWith('sessions:{abc}:')).toBe(true);
  });
});
