/**
 * Counted leases on open connections under a key (a user, a client address), shared by every
 * replica. A lease lapses after its TTL unless refreshed, so a crashed replica's sockets stop
 * counting on their own.
 */
/** A slot wanted under `key`, where at most `max` may be held. */
export interface SlotClaim {
  key: string;
  max: number;
}

export interface ConnectionSlots {
  /** Takes a slot for `holder` under `key` when fewer than `max` are held; false when full. */
  acquire(key: string, holder: string, max: number): Promise<boolean>;
  /** Takes a slot for `holder` under every claim's key, or none of them when any is full. */
  acquireAll(holder: string, claims: readonly SlotClaim[]): Promise<boolean>;
  release(key: string, holder: string): Promise<void>;
  /**
   * Extends the leases of connections still open: each key with this replica's holders under it.
   * Holders are names without whitespace (connection ids); a refresh refuses any other.
   */
  refresh(holders: ReadonlyMap<string, readonly string[]>): Promise<void>;
  close(): Promise<void>;
}

/** One process's count: the embedded mode, and the fallback while Redis cannot answer. */
export class MemoryConnectionSlots implements ConnectionSlots {
  readonly #held = new Map<string, Set<string>>();

  acquire(key: string, holder: string, max: number): Promise<boolean> {
    return this.acquireAll(holder, [{ key, max }]);
  }

  acquireAll(holder: string, claims: readonly SlotClaim[]): Promise<boolean> {
    for (const { key, max } of claims) {
      const holders = this.#held.get(key);
      if (holders?.has(holder) !== true && (holders?.size ?? 0) >= max) return Promise.resolve(false);
    }
    for (const { key } of claims) {
      const holders = this.#held.get(key);
      if (holders === undefined) this.#held.set(key, new Set([holder]));
      else holders.add(holder);
    }
    return Promise.resolve(true);
  }

  /** Whether `holder` is counted under `key`. */
  holds(key: string, holder: string): boolean {
    return this.#held.get(key)?.has(holder) === true;
  }

  release(key: string, holder: string): Promise<void> {
    const holders = this.#held.get(key);
    holders?.delete(holder);
    if (holders?.size === 0) this.#held.delete(key);
    return Promise.resolve();
  }

  refresh(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
