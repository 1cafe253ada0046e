import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { sourceAddresses } from './soak.ts';

describe('the soak spreads its clients over source addresses', () => {
  it('gives no address more clients than the gateways admit from one IP, and no two workers the same address', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 1, max: 60_000 }), (worker, clients) => {
        const addresses = sourceAddresses(worker, clients);
        const perAddress = new Map<string, number>();
        // The fleet hands addresses out in turn, one client after another.
        for (let index = 0; index < clients; index++) {
          const address = addresses[index % addresses.length] ?? '';
          perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
        }
        expect(Math.max(...perAddress.values())).toBeLessThanOrEqual(800);
        expect(addresses.every((address) => address.startsWith(`127.0.${String(worker + 1)}.`))).toBe(true);
        expect(new Set(addresses).size).toBe(addresses.length);
      }),
    );
  });
});
