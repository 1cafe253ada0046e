import type { ChatMessage } from '@chat/protocol';
import { findHole } from './history-hole.ts';
import { liveFloor, mergeHistory } from './history-merge.ts';
import type { ChatStore, HistoryPage, HistoryRange, MessageQueue, SessionLog } from './ports.ts';

/** Where a history read looks: the store, the live recent list, the queue. */
export type HistorySource = 'store' | 'recent' | 'queue';

/** A source that failed while a page was read; `source` says which, `cause` why. */
export class HistorySourceError extends Error {
  readonly source: HistorySource;

  constructor(source: HistorySource, cause: unknown) {
    super(`history could not read the ${source}`, { cause });
    this.name = 'HistorySourceError';
    this.source = source;
  }
}

export interface HistorySources {
  store: Pick<ChatStore, 'history'>;
  state: Pick<SessionLog, 'recent'>;
  /** Read only for what the store and the recent list both lack (the persister is behind). */
  queue?: Pick<MessageQueue, 'range' | 'lastSeq'> | undefined;
}

export interface HistoryReadOptions {
  /** Only an open session has a recent list; a closed one's newest seq is whatever the queue still holds. */
  open: boolean;
  /** A seq known to exist already (a connection's head), so the queue is read up to it. */
  newestKnown?: number;
  /**
   * With it, a source that fails reads as empty and is reported here, so the others still serve;
   * without it, the read fails with a HistorySourceError.
   */
  onSourceError?: (error: HistorySourceError) => void;
}

const EMPTY_PAGE: HistoryPage = { messages: [], hasMore: false };

/**
 * The one way to read a session's messages: a page from the store, joined with the live recent
 * list (acknowledged, not yet written by the persister), and with the queue for a hole neither
 * covers. REST history pages with it, and a reconnecting socket catches up with it.
 */
export class HistoryReader {
  readonly #sources: HistorySources;

  constructor(sources: HistorySources) {
    this.#sources = sources;
  }

  page(sessionId: string, range: HistoryRange, options: HistoryReadOptions): Promise<HistoryPage> {
    const { store } = this.#sources;
    return this.pageOver(sessionId, range, options, () => store.history(sessionId, range));
  }

  /**
   * As `page`, with the store's page read by `readStored` instead of the store's history: a caller
   * that reads it together with something else from the same database (the read cursors) in one
   * round trip. It must answer what the store's history answers for `range`.
   */
  async pageOver(sessionId: string, range: HistoryRange, options: HistoryReadOptions, readStored: () => Promise<HistoryPage>): Promise<HistoryPage> {
    const { state, queue } = this.#sources;
    const stored = await read('store', options, EMPTY_PAGE, readStored);
    if (coversPage(stored, range)) return stored;
    const recent = options.open ? await read('recent', options, [], () => state.recent(sessionId, liveFloor(stored, range))) : [];
    const page = mergeHistory(stored, recent, range);
    const readHead = Math.max(options.newestKnown ?? 0, ...seqsOf(recent), ...seqsOf(stored.messages));
    if (!queue) return withMoreBeyond(page, range, readHead);
    const queuedHead = options.open ? 0 : await read('queue', options, 0, () => queue.lastSeq(sessionId));
    const newestKnown = Math.max(readHead, queuedHead);
    const hole = findHole(seqsOf(page.messages), range, newestKnown);
    if (!hole) return withMoreBeyond(page, range, newestKnown);
    // The persister is behind by more than the recent list holds: the queue still has the rest.
    const queued = await read('queue', options, [], () => queue.range(sessionId, hole.afterSeq, hole.beforeSeq, range.limit));
    return withMoreBeyond(mergeHistory(stored, [...recent, ...queued], range), range, newestKnown);
  }

  /** The message at `seq` with this id, wherever it is now; undefined when no source has it. */
  async message(sessionId: string, seq: number, id: string): Promise<ChatMessage | undefined> {
    // The seq is known to exist, so a copy that only the queue holds (live state lost, the persister behind) is read there.
    const page = await this.page(sessionId, { after: seq - 1, limit: 1 }, { open: true, newestKnown: seq });
    return page.messages.find((message) => message.id === id);
  }
}

/**
 * A full page of consecutive seqs from the store with more beyond it is the page, so the live list
 * and the queue are not read: catching up, nothing newer can come before its end; scrolling back,
 * when it ends right below `before`, every seq it may hold is there and the stored copy wins.
 */
function coversPage(stored: HistoryPage, range: HistoryRange): boolean {
  if (!stored.hasMore || stored.messages.length !== range.limit) return false;
  const first = stored.messages[0]?.seq;
  const last = stored.messages.at(-1)?.seq;
  if (range.after !== undefined) return first === range.after + 1 && last === range.after + range.limit;
  return range.before !== undefined && last === range.before - 1 && first === range.before - range.limit;
}

/**
 * The merged page's hasMore counts only what was read: the store's own beyond its page, and the
 * recent list. A seq beyond the page that only the queue holds (the persister behind, the recent
 * list capped or lost) is not read, since the queue is read only for a hole inside the page. Seqs
 * are dense from 1 (a failed publish leaves a gap record, a refused one a dead letter), so without
 * another read: scrolling back, more exist when the page starts above 1; catching up, when it ends
 * below a seq known to exist.
 */
function withMoreBeyond(page: HistoryPage, range: HistoryRange, newestKnown: number): HistoryPage {
  const first = page.messages[0]?.seq;
  const last = page.messages.at(-1)?.seq;
  if (page.hasMore || first === undefined || last === undefined) return page;
  const more = range.after === undefined ? first > 1 : last < Math.min(newestKnown, (range.before ?? Infinity) - 1);
  return more ? { ...page, hasMore: true } : page;
}

async function read<T>(source: HistorySource, options: HistoryReadOptions, fallback: T, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (cause) {
    const error = new HistorySourceError(source, cause);
    if (!options.onSourceError) throw error;
    options.onSourceError(error);
    return fallback;
  }
}

function seqsOf(messages: readonly ChatMessage[]): number[] {
  return messages.map((message) => message.seq);
}
