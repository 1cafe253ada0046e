import type { ConnectionSlots, SlotClaim } from '@chat/core';

/**
 * Connection slots whose client is made on the first call: only gateways count connections, so a
 * session-api built from the same backend opens no Redis connection for them.
 */
export class SlotsOnFirstUse implements ConnectionSlots {
  readonly #open: () => ConnectionSlots;
  #slots: ConnectionSlots | undefined;

  constructor(open: () => ConnectionSlots) {
    this.#open = open;
  }

  // async, so a client that cannot be made rejects like any other failed call.
  async acquire(key: string, holder: string, max: number): Promise<boolean> {
    return this.#opened().acquire(key, holder, max);
  }

  async acquireAll(holder: string, claims: readonly SlotClaim[]): Promise<boolean> {
    return this.#opened().acquireAll(holder, claims);
  }

  async release(key: string, holder: string): Promise<void> {
    return this.#opened().release(key, holder);
  }

  refresh(holders: ReadonlyMap<string, readonly string[]>): Promise<void> {
    // Nothing was leased before the first acquire, so there is nothing to extend.
    return this.#slots === undefined ? Promise.resolve() : this.#slots.refresh(holders);
  }

  close(): Promise<void> {
    return this.#slots?.close() ?? Promise.resolve();
  }

  #opened(): ConnectionSlots {
    return (this.#slots ??= this.#open());
  }
}
