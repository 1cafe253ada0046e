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
  const parsed = chatMessageSchema.safeParse(raw);
  if (parsed.success) return { ok: true, message: parsed.data };
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`).join('; ');
  return { ok: false, problem: `payload is not a chat message (${problems})`, ids: payloadIds(raw) };
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
