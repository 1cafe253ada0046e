import { randomUUID } from 'node:crypto';
import { hashSlot } from './hash-slot.ts';
import type { RedisClient } from './redis-connection.ts';

/**
 * The probe channel for each master, chosen so its slot is one that master owns: one probe per
 * shard reaches every subscriber connection the bus has. A plain Redis is one shard.
 */
export class ProbeChannels {
  readonly #prefix = `chat-bus-probe:{${randomUUID()}`;
  /** master → probe channel, kept while the master still owns the channel's slot. */
  readonly #byMaster = new Map<string, string>();

  /** The probe channels of the current topology, one per master. */
  current(client: RedisClient): string[] {
    if (!('slots' in client)) return [`${this.#prefix}}`];
    const owners = client.slots;
    const masters = new Set<string>();
    // The slot table is sparse while the topology is unknown: index it rather than iterate.
    for (let slot = 0; slot < 16384; slot++) {
      const master = owners[slot]?.[0];
      if (master !== undefined) masters.add(master);
    }
    const channels: string[] = [];
    for (const master of masters) {
      let channel = this.#byMaster.get(master);
      if (channel === undefined || owners[hashSlot(channel)]?.[0] !== master) {
        channel = findChannelOn(owners, master, this.#prefix);
        this.#byMaster.set(master, channel);
      }
      channels.push(channel);
    }
    for (const master of this.#byMaster.keys()) if (!masters.has(master)) this.#byMaster.delete(master);
    return channels;
  }
}

function findChannelOn(owners: readonly (readonly string[] | undefined)[], master: string, prefix: string): string {
  // A master owns at least one slot of 16384; random tags find one in (slots / owned) tries.
  for (let i = 0; i < 1_000_000; i++) {
    const channel = `${prefix}-${String(i)}}`;
    if (owners[hashSlot(channel)]?.[0] === master) return channel;
  }
  throw new Error(`no probe channel hashes to a slot of ${master}`);
}
