import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SlicedSweep } from './sliced-sweep.ts';

/** Resolves after the immediates queued so far, and those they queue, up to `turns` deep. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('SlicedSweep', () => {
  it('visits every item once, in order, at most a slice per turn, with I/O turns between slices', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer(), { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), async (items, size) => {
        const visited: number[] = [];
        const perTurn: number[] = [];
        let current = 0;
        const sweep = new SlicedSweep<number>(size, (item) => {
          visited.push(item);
          current += 1;
        });
        sweep.run(items);
        // The first slice runs at once, before the caller's turn ends.
        expect(visited).toEqual(items.slice(0, size));
        while (sweep.running) {
          perTurn.push(current);
          current = 0;
          await turns(1);
        }
        perTurn.push(current);
        expect(visited).toEqual(items);
        expect(perTurn.every((n) => n <= size)).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('lets a timer or socket callback due meanwhile run between two slices', async () => {
    const order: string[] = [];
    const sweep = new SlicedSweep<number>(2, (item) => order.push(`item ${String(item)}`));
    const timer = new Promise<void>((resolve) => setTimeout(() => {
      order.push('timer');
      resolve();
    }, 0));
    // Let the timer come due before the sweep starts.
    const due = Date.now() + 5;
    while (Date.now() < due) { /* wait */ }
    sweep.run([1, 2, 3, 4, 5, 6]);
    await timer;
    await turns(4);
    expect(order.indexOf('timer')).toBeGreaterThan(0);
    expect(order.indexOf('timer')).toBeLessThan(order.length - 1);
    expect(order.filter((entry) => entry !== 'timer')).toEqual(['item 1', 'item 2', 'item 3', 'item 4', 'item 5', 'item 6']);
  });

  it('takes the items as they are when it starts: one added later waits for the next sweep', async () => {
    const items = new Set([1, 2, 3]);
    const visited: number[] = [];
    const sweep = new SlicedSweep<number>(1, (item) => visited.push(item));
    sweep.run(items);
    items.add(4);
    await turns(5);
    expect(visited).toEqual([1, 2, 3]);
  });

  it('drops a sweep still running when the next starts, and visits nothing after cancel', async () => {
    const visited: string[] = [];
    const sweep = new SlicedSweep<string>(1, (item) => visited.push(item));
    sweep.run(['a1', 'a2', 'a3']);
    sweep.run(['b1', 'b2']);
    await turns(5);
    expect(visited).toEqual(['a1', 'b1', 'b2']);
    sweep.run(['c1', 'c2', 'c3']);
    sweep.cancel();
    await turns(5);
    expect(visited).toEqual(['a1', 'b1', 'b2', 'c1']);
    expect(sweep.running).toBe(false);
  });

  it('refuses a slice size that is not a positive integer', () => {
    for (const size of [0, -1, 1.5, Number.NaN]) expect(() => new SlicedSweep<number>(size, () => undefined)).toThrow(RangeError);
  });
});
