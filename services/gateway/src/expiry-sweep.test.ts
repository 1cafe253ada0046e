import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ExpirySweep, type DeadlineHolder } from './expiry-sweep.ts';

/** A holder whose deadline runs `fire`. */
function holder(fire: () => unknown): DeadlineHolder {
  return { deadlinePassed: () => void fire() };
}

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ExpirySweep', () => {
  it('fires each deadline once it has passed, earliest first, and never the cancelled ones', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ offset: fc.integer({ min: 0, max: 40 }), cancel: fc.boolean() }), { maxLength: 30 }), async (plan) => {
        const sweep = new ExpirySweep();
        const start = Date.now();
        const fired: { i: number; at: number; late: number }[] = [];
        const handles = plan.map(({ offset }, i) => sweep.add(start + offset, holder(() => fired.push({ i, at: start + offset, late: Date.now() - (start + offset) }))));
        plan.forEach(({ cancel }, i) => {
          const handle = handles[i];
          if (cancel && handle !== undefined) sweep.cancel(handle);
        });
        await tick(60);
        const expected = plan.flatMap(({ cancel }, i) => (cancel ? [] : [i]));
        expect(fired.map((f) => f.i).sort((a, b) => a - b)).toEqual(expected);
        expect(fired.every((f) => f.late >= 0)).toBe(true);
        expect(fired.map((f) => f.at)).toEqual([...fired.map((f) => f.at)].sort((a, b) => a - b));
        expect(sweep.size).toBe(0);
      }),
      { numRuns: 15 },
    );
  });

  it('never fires from add() itself, even for a deadline already past', () => {
    const sweep = new ExpirySweep();
    let fired = 0;
    sweep.add(Date.now() - 1000, holder(() => fired++));
    expect(fired).toBe(0);
    sweep.clear();
  });

  it('lets a deadline cancel or add others while it fires', async () => {
    const sweep = new ExpirySweep();
    const fired: string[] = [];
    const now = Date.now();
    const later = sweep.add(now + 5, holder(() => fired.push('later')));
    sweep.add(
      now,
      holder(() => {
        fired.push('first');
        sweep.cancel(later);
        sweep.add(Date.now(), holder(() => fired.push('added')));
      }),
    );
    await tick(30);
    expect(fired).toEqual(['first', 'added']);
    expect(sweep.size).toBe(0);
  });

  it('clear() forgets everything and keeps no timer', async () => {
    const sweep = new ExpirySweep();
    let fired = 0;
    const handle = sweep.add(Date.now() + 5, holder(() => fired++));
    sweep.clear();
    sweep.cancel(handle);
    await tick(20);
    expect(fired).toBe(0);
    expect(sweep.size).toBe(0);
  });
});
