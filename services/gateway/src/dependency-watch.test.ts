import { describe, expect, it } from '@jest/globals';
import { Readiness } from '@chat/service-kit';
import { DependencyWatch } from './dependency-watch.ts';

function watchOf(answers: { ok: boolean }) {
  let now = 0;
  let cuts = 0;
  const readiness = new Readiness({ timeoutMs: 50 }).add('redis', () => (answers.ok ? Promise.resolve() : Promise.reject(new Error('down'))));
  const watch = new DependencyWatch({ readiness, shedAfterMs: 3_000, onCut: () => cuts++, now: () => now });
  return {
    watch,
    readiness,
    cuts: () => cuts,
    at: async (ms: number) => {
      now = ms;
      await watch.check();
    },
  };
}

describe('DependencyWatch', () => {
  it('hands over once an outage outlasts the limit, not for a blip, and once per outage', async () => {
    const answers = { ok: true };
    const { watch, cuts, at } = watchOf(answers);
    await at(0);
    answers.ok = false;
    await at(1_000);
    await at(3_999);
    expect({ cut: watch.cut, cuts: cuts() }).toEqual({ cut: false, cuts: 0 });
    await at(4_000);
    await at(5_000);
    expect({ cut: watch.cut, cuts: cuts() }).toEqual({ cut: true, cuts: 1 });
    answers.ok = true;
    await at(6_000);
    expect(watch.cut).toBe(false);
    // A new outage counts from its own start.
    answers.ok = false;
    await at(7_000);
    await at(9_000);
    expect(cuts()).toBe(1);
    await at(10_000);
    expect(cuts()).toBe(2);
  });

  it('a blip between two short outages starts the count again', async () => {
    const answers = { ok: false };
    const { watch, at } = watchOf(answers);
    await at(0);
    await at(2_000);
    answers.ok = true;
    await at(2_500);
    answers.ok = false;
    await at(3_000);
    await at(5_000);
    expect(watch.cut).toBe(false);
  });

  it('leaves a draining replica alone: the drain closes its clients', async () => {
    const answers = { ok: false };
    const { watch, readiness, cuts, at } = watchOf(answers);
    readiness.drain();
    await at(0);
    await at(10_000);
    expect({ cut: watch.cut, cuts: cuts() }).toEqual({ cut: false, cuts: 0 });
  });
});
