import { z } from 'zod';
import { analysisResultIssue } from './analysis-result.ts';
import { analysisStatusFrameSchema, type AnalysisStatusFrame } from './analysis-status.ts';
import type { ErrorCode } from './errors.ts';
import { DEFAULT_JSON_BOUNDS, describeViolation, findJsonBoundsViolation, isStorableText, MAX_JSON_BOUNDS, UNSTORABLE_TEXT_MESSAGE } from './json-bounds.ts';
import { byteLengthOfJson, MAX_CLIENT_MSG_ID_CHARS, MAX_METADATA_BYTES, MAX_TOKEN_CHARS, type MessageLimits } from './limits.ts';

export const uuid = z.uuid();

/** Text PostgreSQL keeps exactly as sent: no U+0000, no unpaired surrogate. */
export const storableTextSchema = z.string().refine(isStorableText, { message: UNSTORABLE_TEXT_MESSAGE });

/** Marks the one metadata issue that answers `too_large` rather than `invalid_frame`. */
export const METADATA_TOO_LARGE = 'metadata_too_large';

export const metadataSchema = z
  .record(z.string(), z.unknown())
  .superRefine((value, ctx) => {
    // Bounded before JSON.stringify, which recurses and would overflow the stack on deep nesting.
    const found = findJsonBoundsViolation(value, MAX_JSON_BOUNDS);
    if (found) {
      ctx.addIssue({ code: 'custom', message: found.message, path: found.path, params: { bounds: found.reason } });
      return;
    }
    if (byteLengthOfJson(value) > MAX_METADATA_BYTES) {
      ctx.addIssue({ code: 'custom', message: `metadata must be at most ${MAX_METADATA_BYTES} bytes as JSON`, params: { reason: METADATA_TOO_LARGE } });
    }
  })
  .meta({ id: 'Metadata', description: 'Free-form JSON object, at most 4 KiB serialized, nested at most 64 deep, without U+0000 or unpaired surrogates.' });

/**
 * A message's metadata: free-form, except that one claiming `kind: "analysis_result"` must follow
 * the analysis result schema (analysis-result.ts), on every path a message enters by.
 */
export const messageMetadataSchema = metadataSchema.superRefine((value, ctx) => {
  const issue = analysisResultIssue(value);
  if (issue) ctx.addIssue({ code: 'custom', message: `analysis result: ${issue.message}`, path: issue.path });
});

export const clientMsgIdSchema = storableTextSchema.min(1).max(MAX_CLIENT_MSG_ID_CHARS);

/** A stored message; the same shape travels as a frame, in history and in REST responses. */
export const chatMessageSchema = z
  .object({
    type: z.literal('message'),
    id: uuid,
    sessionId: uuid,
    seq: z.number().int().positive(),
    userId: uuid,
    /** Display name from the sender's token, when it carried one (an addition to the contract). */
    userName: z.string().optional(),
    body: z.string(),
    metadata: z.record(z.string(), z.unknown()),
    timestamp: z.iso.datetime({ offset: true }),
    clientMsgId: z.string().optional(),
    /**
     * Only in history and catch-up: `dead_letter` marks an acknowledged message the store refused,
     * kept in the dead-letter store instead of chat_messages (see the persister's README).
     */
    state: z.literal('dead_letter').optional().meta({ description: 'Present only on a message the store refused: `dead_letter` (kept, not in chat_messages).' }),
  })
  .meta({ id: 'ChatMessage' });
export type ChatMessage = z.infer<typeof chatMessageSchema>;

// Client → server frames. `body` has no max here: its length is checked against config, to answer `too_large`.
export const sendFrameSchema = z.object({
  type: z.literal('send'),
  clientMsgId: clientMsgIdSchema,
  body: storableTextSchema.min(1),
  metadata: messageMetadataSchema.optional(),
});
/** Moves the sender's read cursor in the session forward to `seq` (see read-marks in the gateway README). */
export const readFrameSchema = z.object({ type: z.literal('read'), seq: z.number().int().nonnegative() });
export const typingFrameSchema = z.object({ type: z.literal('typing') });
export const pingFrameSchema = z.object({ type: z.literal('ping') });
/** A fresh token for the same user, sent before the current one expires, so the connection keeps its rights. */
export const authFrameSchema = z.object({ type: z.literal('auth'), token: z.string().min(1).max(MAX_TOKEN_CHARS) });
export const clientFrameSchema = z.discriminatedUnion('type', [sendFrameSchema, readFrameSchema, typingFrameSchema, pingFrameSchema, authFrameSchema]);
export type AuthFrame = z.infer<typeof authFrameSchema>;
export type SendFrame = z.infer<typeof sendFrameSchema>;
export type ReadFrame = z.infer<typeof readFrameSchema>;
export type ClientFrame = z.infer<typeof clientFrameSchema>;

// Server → client frames on the chat route.
export const welcomeFrameSchema = z.object({
  type: z.literal('welcome'),
  sessionId: uuid,
  userId: uuid,
  connectionId: z.string(),
  seq: z.number().int().nonnegative(),
});
export const ackFrameSchema = z.object({
  type: z.literal('ack'),
  clientMsgId: z.string(),
  id: uuid,
  seq: z.number().int().positive(),
  timestamp: z.iso.datetime({ offset: true }),
});
export const errorFrameSchema = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  clientMsgId: z.string().optional(),
});
export const pongFrameSchema = z.object({ type: z.literal('pong') });
/** The answer to an accepted `auth` frame: the connection's rights now end at `expiresAt`. */
export const authenticatedFrameSchema = z.object({ type: z.literal('authenticated'), expiresAt: z.iso.datetime({ offset: true }).optional() });
export const sessionClosedFrameSchema = z.object({ type: z.literal('session_closed') });

// Server → client frames on the status route.
export const presenceFrameSchema = z.object({
  type: z.literal('presence'),
  online: z.array(uuid),
  /** userId → display name, for those who have one (an addition to the contract). */
  names: z.record(z.string(), z.string()).optional(),
});
export const joinFrameSchema = z.object({ type: z.literal('join'), userId: uuid, userName: z.string().optional() });
export const leaveFrameSchema = z.object({ type: z.literal('leave'), userId: uuid });
export const typingEventFrameSchema = z.object({ type: z.literal('typing'), userId: uuid, userName: z.string().optional() });
/** A member's read cursor moved forward: they have read up to `seq`. */
export const readEventFrameSchema = z.object({ type: z.literal('read'), userId: uuid, seq: z.number().int().nonnegative() }).meta({ id: 'ReadEvent' });

export const chatServerFrameSchema = z.discriminatedUnion('type', [
  welcomeFrameSchema,
  chatMessageSchema,
  ackFrameSchema,
  errorFrameSchema,
  pongFrameSchema,
  sessionClosedFrameSchema,
  authenticatedFrameSchema,
]);
export const statusServerFrameSchema = z.discriminatedUnion('type', [
  presenceFrameSchema,
  joinFrameSchema,
  leaveFrameSchema,
  typingEventFrameSchema,
  readEventFrameSchema,
  analysisStatusFrameSchema,
  sessionClosedFrameSchema,
  errorFrameSchema,
  authenticatedFrameSchema,
  pongFrameSchema,
]);

export type WelcomeFrame = z.infer<typeof welcomeFrameSchema>;
export type AckFrame = z.infer<typeof ackFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
export type AuthenticatedFrame = z.infer<typeof authenticatedFrameSchema>;
export type PresenceFrame = z.infer<typeof presenceFrameSchema>;
export type JoinFrame = z.infer<typeof joinFrameSchema>;
export type LeaveFrame = z.infer<typeof leaveFrameSchema>;
export type TypingEventFrame = z.infer<typeof typingEventFrameSchema>;
export type ReadEventFrame = z.infer<typeof readEventFrameSchema>;
export type ChatServerFrame = z.infer<typeof chatServerFrameSchema>;
export type StatusServerFrame = z.infer<typeof statusServerFrameSchema>;

/** A control event on the fan-out channel, never sent to clients: every replica closes the user's sockets in the session with 4403. */
export interface MemberRemovedEvent {
  type: 'member_removed';
  userId: string;
}

/** Events carried on a session's fan-out channel between replicas. */
export type SessionEvent = ChatMessage | JoinFrame | LeaveFrame | TypingEventFrame | ReadEventFrame | AnalysisStatusFrame | z.infer<typeof sessionClosedFrameSchema> | MemberRemovedEvent;

export type ParsedClientFrame =
  | { ok: true; frame: ClientFrame }
  | { ok: false; code: Extract<ErrorCode, 'invalid_frame' | 'too_large'>; message: string; clientMsgId?: string };

/**
 * Parses one text frame from a client; never throws. The caller has bounded its size in bytes;
 * here it is bounded in depth, entries and storable text before the schema sees it.
 */
export function parseClientFrame(text: string, limits: MessageLimits): ParsedClientFrame {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: 'invalid_frame', message: 'Frame is not valid JSON.' };
  }
  const clientMsgId = pickClientMsgId(raw);
  const outOfBounds = findJsonBoundsViolation(raw, limits.json ?? DEFAULT_JSON_BOUNDS);
  if (outOfBounds) {
    return { ok: false, code: 'invalid_frame', message: describeViolation(outOfBounds), ...(clientMsgId === undefined ? {} : { clientMsgId }) };
  }
  const parsed = clientFrameSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const tooLargeMetadata = issue?.code === 'custom' && issue.params?.['reason'] === METADATA_TOO_LARGE;
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return {
      ok: false,
      code: tooLargeMetadata ? 'too_large' : 'invalid_frame',
      message: `${where}${issue?.message ?? 'invalid frame'}`,
      ...(clientMsgId === undefined ? {} : { clientMsgId }),
    };
  }
  const frame = parsed.data;
  if (frame.type === 'send' && exceedsChars(frame.body, limits.maxMessageChars)) {
    return { ok: false, code: 'too_large', message: `body is longer than ${limits.maxMessageChars} characters`, clientMsgId: frame.clientMsgId };
  }
  return { ok: true, frame };
}

function pickClientMsgId(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const value = (raw as Record<string, unknown>)['clientMsgId'];
  return typeof value === 'string' && value.length <= MAX_CLIENT_MSG_ID_CHARS && isStorableText(value) ? value : undefined;
}

/** Counts characters as code points, so an emoji is one; the UTF-16 length is a cheap upper bound. */
export function exceedsChars(text: string, max: number): boolean {
  if (text.length <= max) return false;
  let count = 0;
  for (const _ of text) if (++count > max) return true;
  return false;
}
