import { describe, expect, it } from '@jest/globals';
import { countDrainReconnects } from './fault-suite.ts';

const at = (drainCloses: number, reconnects: number) => ({ drainCloses, reconnects });

describe('countDrainReconnects', () => {
  it('passes when every client made exactly one attempt per drain close since the phase began', () => {
    const failures: string[] = [];
    const counts = countDrainReconnects([at(3, 5), at(1, 1), at(2, 2)], [at(1, 3), at(0, 0), at(1, 1)], failures);
    expect(failures).toEqual([]);
    expect(counts).toEqual({ clients: 3, drainCloses: 4, attempts: 4, maxPerDrain: 1 });
  });

  it('fails a client that needed more than one attempt, and one never closed by a drain', () => {
    const failures: string[] = [];
    const counts = countDrainReconnects([at(1, 3), at(0, 0)], [at(0, 0), at(0, 0)], failures);
    expect(counts.maxPerDrain).toBe(3);
    expect(failures).toEqual(['1 clients were never closed by a drain', '1 clients did not reconnect exactly once per drain close (3 attempts for 1 drain closes)']);
  });

  it('names the other closes of the phase, by code, that sent clients back', () => {
    const failures: string[] = [];
    const members: { drainCloses: number; reconnects: number; otherCloses: Record<number, number> }[] = [
      { ...at(2, 4), otherCloses: { 1013: 3, 1006: 1 } },
      { ...at(1, 1), otherCloses: { 1006: 2 } },
    ];
    countDrainReconnects(members, [{ ...at(1, 1), otherCloses: { 1013: 2 } }, { ...at(0, 0), otherCloses: { 1006: 2 } }], failures);
    expect(failures).toEqual(['1 clients did not reconnect exactly once per drain close (4 attempts for 2 drain closes; other closes: 1006 ×1, 1013 ×1)']);
  });

  it('says how the sockets of the clients that needed more attempts ended, since the phase began', () => {
    const failures: string[] = [];
    const members: { drainCloses: number; reconnects: number; otherCloses: Record<number, number>; socketEnds: Record<string, number> }[] = [
      { ...at(1, 2), otherCloses: { 1006: 1 }, socketEnds: { 'gateway-a: 1001 after welcome': 2, 'gateway-b: refused Unexpected server response: 408': 1 } },
      { ...at(1, 1), otherCloses: {}, socketEnds: { 'gateway-a: 1001 after welcome': 1 } },
    ];
    countDrainReconnects(members, [{ ...at(0, 0), socketEnds: { 'gateway-a: 1001 after welcome': 1 } }, at(0, 0)], failures);
    expect(failures).toEqual([
      '1 clients did not reconnect exactly once per drain close (3 attempts for 2 drain closes; other closes: 1006 ×1; their sockets ended: gateway-a: 1001 after welcome ×1, gateway-b: refused Unexpected server response: 408 ×1)',
    ]);
  });
});
