import type { ChatMessage } from '@chat/protocol';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';

export interface RangeBounds {
  /** Stop after reading this many of the session's messages. */
  maxScanned: number;
  timeoutMs: number;
}

export interface SessionRangeQuery {
  stream: string;
  subject: string;
  afterSeq: number;
  beforeSeq: number;
  limit: number;
}

const decoder = new TextDecoder();
const BATCH = 256;

/**
 * Reads one session's subject from the start with an ephemeral ordered consumer and keeps the
 * messages whose chat seq falls in the range. Publish order is not strictly seq order (retries,
 * concurrent senders), so it reads until the range is complete, the subject's end, or a bound.
 */
export async function readSessionRange(js: JetStreamClient, jsm: JetStreamManager, query: SessionRangeQuery, bounds: RangeBounds): Promise<ChatMessage[]> {
  const wanted = Math.min(query.limit, query.beforeSeq - query.afterSeq - 1);
  if (wanted <= 0) return [];
  // The subject's last stream sequence tells where to stop, and an empty subject costs no fetch wait.
  const last = await jsm.streams.getMessage(query.stream, { last_by_subj: query.subject });
  if (last === null) return [];
  const found = new Map<number, ChatMessage>();
  const deadline = Date.now() + bounds.timeoutMs;
  const consumer = await js.consumers.get(query.stream, { filter_subjects: query.subject, deliver_policy: DeliverPolicy.All });
  let scanned = 0;
  let done = false;
  try {
    while (!done && scanned < bounds.maxScanned && Date.now() < deadline) {
      const batch = await consumer.fetch({ max_messages: Math.min(BATCH, bounds.maxScanned - scanned), expires: Math.max(1_000, deadline - Date.now()) });
      let received = 0;
      for await (const queued of batch) {
        received += 1;
        scanned += 1;
        const message = parseMessage(queued.data);
        if (message && message.seq > query.afterSeq && message.seq < query.beforeSeq) found.set(message.seq, message);
        if (queued.seq >= last.seq || leadingRun(found, query.afterSeq) >= wanted) {
          done = true;
          break;
        }
      }
      if (received === 0) break;
    }
  } finally {
    await consumer.delete().catch(() => false);
  }
  return [...found.values()].sort((a, b) => a.seq - b.seq).slice(0, query.limit);
}

/** How many seqs right after afterSeq are all present. */
function leadingRun(found: ReadonlyMap<number, ChatMessage>, afterSeq: number): number {
  let run = 0;
  while (found.has(afterSeq + run + 1)) run += 1;
  return run;
}

function parseMessage(data: Uint8Array): ChatMessage | undefined {
  try {
    const value = JSON.parse(decoder.decode(data)) as Partial<ChatMessage>;
    return typeof value.seq === 'number' && typeof value.id === 'string' ? (value as ChatMessage) : undefined;
  } catch {
    return undefined;
  }
}
