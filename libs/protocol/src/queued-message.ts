import { z } from 'zod';
import { chatMessageSchema, type ChatMessage } from './frames.ts';

/** The ids a payload names, where they are well-formed; never its body or metadata. */
export interface PayloadIds {
  id?: string;
  sessionId?: string;
  seq?: number;
}

export type DecodedPayload = { ok: true; message: ChatMessage } | { ok: false; problem: string; ids: PayloadIds };

const decoder = new TextDecoder();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads a queued message (UTF-8 JSON of a ChatMessage), as the persister does for each row and a
 * replay does for a dead letter. The problem names paths and zod codes only: a zod message could
 * quote the content.
 */
export function decodeQueuedMessage(data: Uint8Array): DecodedPayload {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(data));
  } catch {
    return { ok: false, problem: 'payload is not JSON', ids: {} };
  }
  const plain = plainChatMessage(raw);
  if (plain !== undefined) return { ok: true, message: plain };
  const parsed = chatMessageSchema.safeParse(raw);
  if (parsed.success) return { ok: true, message: parsed.data };
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`).join('; ');
  return { ok: false, problem: `payload is not a chat message (${problems})`, ids: payloadIds(raw) };
}

/** The schema's own patterns, so the quick check never accepts a value the schema would refuse. */
const UUID_PATTERN = z.regexes.uuid();
const TIMESTAMP_PATTERN = z.regexes.datetime({ offset: true });
const MESSAGE_KEYS = new Set(['type', 'id', 'sessionId', 'seq', 'userId', 'userName', 'body', 'metadata', 'timestamp', 'clientMsgId']);

/**
 * The message as the gateway writes it, checked field by field without the schema's machinery, which
 * cost the persister a few microseconds per row (a third of decoding). It answers only for the plain
 * form, where its result is exactly the schema's; anything else (an extra or odd key, `state`,
 * metadata with a `__proto__` key, a wrong type) returns undefined, and the schema decides and
 * words the problem.
 */
export function plainChatMessage(raw: unknown): ChatMessage | undefined {
  if (!isPlainObject(raw)) return undefined;
  for (const key in raw) if (!MESSAGE_KEYS.has(key)) return undefined;
  const { type, id, sessionId, seq, userId, userName, body, metadata, timestamp, clientMsgId } = raw;
  if (type !== 'message' || typeof body !== 'string' || typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= 0) return undefined;
  if (!isUuid(id) || !isUuid(sessionId) || !isUuid(userId)) return undefined;
  if (typeof timestamp !== 'string' || !TIMESTAMP_PATTERN.test(timestamp)) return undefined;
  if ((userName !== undefined && typeof userName !== 'string') || (clientMsgId !== undefined && typeof clientMsgId !== 'string')) return undefined;
  if (!isPlainObject(metadata) || Object.hasOwn(metadata, '__proto__')) return undefined;
  return {
    type,
    id,
    sessionId,
    seq,
    userId,
    ...(userName === undefined ? {} : { userName }),
    body,
    metadata,
    timestamp,
    ...(clientMsgId === undefined ? {} : { clientMsgId }),
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

function payloadIds(raw: unknown): PayloadIds {
  if (typeof raw !== 'object' || raw === null) return {};
  const { id, sessionId, seq } = raw as Record<string, unknown>;
  return {
    ...(typeof id === 'string' && UUID.test(id) ? { id: id.toLowerCase() } : {}),
    ...(typeof sessionId === 'string' && UUID.test(sessionId) ? { sessionId: sessionId.toLowerCase() } : {}),
    ...(typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0 ? { seq } : {}),
  };
}
