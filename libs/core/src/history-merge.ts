import type { HistoryPage, HistoryRange } from './ports.ts';
import type { ChatMessage } from '@chat/protocol';

/**
 * Joins a page read from the store with the live recent list, so a message that is acknowledged
 * but not yet written by the persister is already in history. `recent` may hold anything with
 * seq > (after ?? 0); the result is the page the store would give if it had every message.
 */
export function mergeHistory(stored: HistoryPage, recent: readonly ChatMessage[], range: HistoryRange): HistoryPage {
  const bySeq = new Map<number, ChatMessage>();
  for (const message of recent) if (inRange(message.seq, range)) bySeq.set(message.seq, message);
  // The stored copy wins: it is the system of record.
  for (const message of stored.messages) bySeq.set(message.seq, message);
  const all = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const forwards = range.after !== undefined;
  const messages = forwards ? all.slice(0, range.limit) : all.slice(Math.max(0, all.length - range.limit));
  // More exist beyond the page when the union overflowed it, or the store itself had more in that
  // direction (those lie beyond every message it returned, so beyond the page too). Only what was
  // read counts: HistoryReader adds seqs beyond the page that only the queue holds.
  return { messages, hasMore: all.length > range.limit || stored.hasMore };
}

function inRange(seq: number, range: HistoryRange): boolean {
  if (range.after !== undefined && seq <= range.after) return false;
  if (range.before !== undefined && seq >= range.before) return false;
  return true;
}

/**
 * The seq above which the live list must be read for this page. Scrolling back, when the store
 * already filled the page and has more beyond it, nothing older than its page can be in the
 * result, so only the newer live messages are read instead of the whole capped list.
 */
export function liveFloor(stored: HistoryPage, range: HistoryRange): number {
  const after = range.after ?? 0;
  if (range.after !== undefined || !stored.hasMore || stored.messages.length < range.limit) return after;
  const oldest = stored.messages[0];
  return oldest === undefined ? after : Math.max(after, oldest.seq - 1);
}
