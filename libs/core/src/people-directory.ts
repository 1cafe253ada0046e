import { personName, type Person } from '@chat/protocol';

export interface PeopleSearch {
  /** Any part of a name; empty lists people by name. */
  text: string;
  limit: number;
}

/** The people the system has seen through their tokens, kept in the same database as the store. */
export interface PeopleStore {
  /** Writes each person's name (and when they were seen), whether or not they were known, in one write; each id appears at most once. */
  recordPeople(people: readonly Person[]): Promise<void>;
  /** Names that start with the text first, then names that contain it; case-insensitive. */
  findPeople(search: PeopleSearch): Promise<Person[]>;
}

/** Who a verified token says is calling; only `userId` and `name` are read. */
export interface SeenCaller {
  userId: string;
  name?: string;
}

export interface PeopleRecorderOptions {
  store: Pick<PeopleStore, 'recordPeople'>;
  /** A known name is written again after this, so `seen_at` stays roughly current. Default one hour. */
  intervalMs?: number;
  /** Users remembered by this process; past it the longest unseen are forgotten (and written again when next seen). */
  maxRemembered?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
  /** Users waiting to be written are written together this long after the first of them. Default 100 ms. */
  flushMs?: number;
  /** A batch this large is written at once rather than at the next flush. Default 500. */
  maxBatch?: number;
}

interface Written {
  name: string;
  at: number;
}

/**
 * Records the people this process sees, without a write per request: a user is written when first
 * seen, when their name changes, and again only once `intervalMs` has passed. Writes wait in a
 * buffer and go out as one multi-row write per `flushMs` (or once `maxBatch` are waiting), so a
 * burst of connects costs a few queries instead of one each. A failed write is forgotten, so the
 * next request tries again.
 */
export class PeopleRecorder {
  readonly #store: Pick<PeopleStore, 'recordPeople'>;
  readonly #intervalMs: number;
  readonly #maxRemembered: number;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #flushMs: number;
  readonly #maxBatch: number;
  /** userId → the name written (or being written) and when; in order of the last write. */
  readonly #written = new Map<string, Written>();
  /** userId → the entry of #written waiting for the next flush. */
  readonly #pending = new Map<string, Written>();
  readonly #inFlight = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: PeopleRecorderOptions) {
    this.#store = options.store;
    this.#intervalMs = options.intervalMs ?? 60 * 60 * 1000;
    this.#maxRemembered = options.maxRemembered ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
    this.#flushMs = options.flushMs ?? 100;
    this.#maxBatch = Math.max(1, options.maxBatch ?? 500);
  }

  /** How many users wait for the next write. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Writes what waits now; settles once that write (and any still under way) is done. Never fails. */
  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.size > 0) this.#write([...this.#pending]);
    await Promise.all([...this.#inFlight]);
  }

  /** Writes what waits, so nothing seen is lost when the process stops. */
  close(): Promise<void> {
    return this.flush();
  }

  #write(batch: [string, Written][]): void {
    this.#pending.clear();
    const people = batch.map(([id, entry]) => ({ id, name: entry.name }));
    const write = this.#store.recordPeople(people).catch((error: unknown) => {
      for (const [id, entry] of batch) if (this.#written.get(id) === entry) this.#written.delete(id);
      this.#onError(error);
    });
    this.#inFlight.add(write);
    void write.finally(() => this.#inFlight.delete(write));
  }

  /**
   * Notes a verified caller. Never waits for the write and never fails: a request must not slow
   * down or break because the directory could not be written.
   */
  seen(caller: SeenCaller): void {
    if (caller.name === undefined) return;
    const name = personName(caller.name);
    if (name === '') return;
    const now = this.#now();
    const last = this.#written.get(caller.userId);
    if (last !== undefined && last.name === name && now - last.at < this.#intervalMs) return;
    const entry = { name, at: now };
    this.#written.delete(caller.userId);
    this.#written.set(caller.userId, entry);
    if (this.#written.size > this.#maxRemembered) {
      const oldest = this.#written.keys().next().value;
      if (oldest !== undefined) this.#written.delete(oldest);
    }
    this.#pending.set(caller.userId, entry);
    if (this.#pending.size >= this.#maxBatch) {
      void this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => void this.flush(), this.#flushMs);
      this.#timer.unref();
    }
  }
}

/** The same verifier, noting every caller it lets in with the recorder. */
export function recordingCallers<T extends SeenCaller>(verify: (token: string | undefined) => Promise<T>, recorder: PeopleRecorder | undefined): (token: string | undefined) => Promise<T> {
  if (recorder === undefined) return verify;
  return async (token) => {
    const caller = await verify(token);
    recorder.seen(caller);
    return caller;
  };
}
