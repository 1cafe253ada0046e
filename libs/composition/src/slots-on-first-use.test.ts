import { describe, expect, it } from '@jest/globals';
import { MemoryConnectionSlots, type ConnectionSlots } from '@chat/core';
import { SlotsOnFirstUse } from './slots-on-first-use.ts';

/** Memory slots that count how often they were made and closed. */
function counted(): { open: () => ConnectionSlots; opened: () => number; closed: () => number } {
  let opened = 0;
  let closed = 0;
  return {
    open: () => {
      opened += 1;
      const slots = new MemoryConnectionSlots();
      return {
        acquire: (key, holder, max) => slots.acquire(key, holder, max),
        acquireAll: (holder, claims) => slots.acquireAll(holder, claims),
        release: (key, holder) => slots.release(key, holder),
        refresh: () => slots.refresh(),
        close: () => {
          closed += 1;
          return slots.close();
        },
      };
    },
    opened: () => opened,
    closed: () => closed,
  };
}

describe('SlotsOnFirstUse', () => {
  it('opens nothing for a refresh or a close before the first acquire', async () => {
    const probe = counted();
    const slots = new SlotsOnFirstUse(probe.open);
    await slots.refresh(new Map([['k', ['h']]]));
    await slots.close();
    expect([probe.opened(), probe.closed()]).toEqual([0, 0]);
  });

  it('opens once, counts through the opened slots and closes them', async () => {
    const probe = counted();
    const slots = new SlotsOnFirstUse(probe.open);
    await expect(slots.acquire('user', 'a', 1)).resolves.toBe(true);
    await expect(slots.acquire('user', 'b', 1)).resolves.toBe(false);
    await slots.release('user', 'a');
    await expect(slots.acquire('user', 'b', 1)).resolves.toBe(true);
    await expect(slots.acquireAll('c', [{ key: 'user', max: 1 }, { key: 'ip', max: 5 }])).resolves.toBe(false);
    await expect(slots.acquireAll('c', [{ key: 'user', max: 2 }, { key: 'ip', max: 5 }])).resolves.toBe(true);
    await slots.close();
    expect([probe.opened(), probe.closed()]).toEqual([1, 1]);
  });

  it('passes on a failure to open', async () => {
    const slots = new SlotsOnFirstUse(() => {
      throw new Error('no redis url');
    });
    await expect(slots.acquire('user', 'a', 1)).rejects.toThrow('no redis url');
  });
});
