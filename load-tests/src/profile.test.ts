import { describe, expect, it } from '@jest/globals';
import { FULL, withOverrides } from './profile.ts';

describe('withOverrides', () => {
  it('leaves out the steady runs under other durability settings with durability "default"', () => {
    const profile = withOverrides(FULL, { durability: 'default' });
    expect(profile.steady.durability).toEqual([]);
    expect({ ...profile.steady, durability: FULL.steady.durability }).toEqual(FULL.steady);
  });

  it('keeps every durability setting with "all" or without the flag', () => {
    expect(withOverrides(FULL, { durability: 'all' }).steady.durability).toEqual(FULL.steady.durability);
    expect(withOverrides(FULL, {}).steady.durability).toEqual(FULL.steady.durability);
    expect(FULL.steady.durability.length).toBeGreaterThan(0);
  });
});
