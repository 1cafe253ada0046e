import { personName, type Person } from '@chat/protocol';

export interface PeopleSearch {
  /** Any part of a name; empty lists people by name. */
  text: string;
  limit: number;
}

/** The people the system has seen through their tokens, kept in the same database as the store. */
export interface PeopleStore {
  /** Writes the person's name (and when they were seen), whether or not they were known. */
  recordPerson(person: Person): Promise<void>;
  /** Names that start with the text first, then names that contain it; case-insensitive. */
  findPeople(search: PeopleSearch): Promise<Person[]>;
}

/** Who a verified token says is calling; only `userId` and `name` are read. */
export interface SeenCaller {
  userId: string;
  name?: string;
}

export interface PeopleRecorderOptions {
  store: Pick<PeopleStore, 'recordPerson'>;
  /** A known name is written again after this, so `seen_at` stays roughly current. Default one hour. */
  intervalMs?: number;
  /** Users remembered by this process; past it the longest unseen are forgotten (and written again when next seen). */
  maxRemembered?: number;
  now?: () => number;
  onError?: (error: unknown) => void;
}

/**
 * Records the people this process sees, without a write per request: a user is written when first
 * seen, when their name changes, and again only once `intervalMs` has passed. A failed write is
 * forgotten, so the next request tries again.
 */
export class PeopleRecorder {
  readonly #store: Pick<PeopleStore, 'recordPerson'>;
  readonly #intervalMs: number;
  readonly #maxRemembered: number;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  /** userId → the name written (or being written) and when; in order of the last write. */
  readonly #written = new Map<string, { name: string; at: number }>();

  constructor(options: PeopleRecorderOptions) {
    this.#store = options.store;
    this.#intervalMs = options.intervalMs ?? 60 * 60 * 1000;
    this.#maxRemembered = options.maxRemembered ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
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
    this.#store.recordPerson({ id: caller.userId, name }).catch((error: unknown) => {
      if (this.#written.get(caller.userId) === entry) this.#written.delete(caller.userId);
      this.#onError(error);
    });
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
