import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { hashSlot } from './hash-slot.ts';

describe('hashSlot', () => {
  it('gives the slots Redis Cluster gives (values from the cluster specification and CLUSTER KEYSLOT)', () => {
    expect(hashSlot('foo')).toBe(12182);
    expect(hashSlot('somekey')).toBe(11058);
    expect(hashSlot('123456789')).toBe(0x31c3 % 16384);
  });

  it('hashes only the first non-empty {tag}, and the whole key when the braces are empty', () => {
    expect(hashSlot('{user1000}.following')).toBe(hashSlot('user1000'));
    expect(hashSlot('foo{}{bar}')).toBe(hashSlot('foo{}{bar}'));
    expect(hashSlot('foo{}{bar}')).not.toBe(hashSlot('bar'));
    expect(hashSlot('foo{{bar}}zap')).toBe(hashSlot('{bar'));
    fc.assert(fc.property(fc.string({ minLength: 1 }).filter((tag) => !tag.includes('}')), fc.string(), (tag, rest) => hashSlot(`sessions:{${tag}}:${rest}`) === hashSlot(tag)));
  });

  it('stays in 0–16383 for any key', () => {
    fc.assert(fc.property(fc.string(), (key) => hashSlot(key) >= 0 && hashSlot(key) < 16384));
  });
});
