import { z } from 'zod';
import { analysisStatusFrameSchema } from './analysis-status.ts';
import { authenticatedFrameSchema, errorFrameSchema, pongFrameSchema, uuid } from './frames.ts';
import { FEED_PREVIEW_CHARS } from './limits.ts';

// Server → client frames on the feed route (`/ws/feed`); it takes the client frames of frames.ts.
/** On open: the sessions the socket follows from now on (the caller's open sessions, newest activity first). */
export const feedOpenFrameSchema = z.object({
  type: z.literal('feed_open'),
  userId: uuid,
  sessionIds: z.array(uuid),
});
/**
 * A message arrived in one of the user's sessions, in seq order per session: enough for a session
 * list (who, when, a preview), never the whole message.
 */
export const feedMessageFrameSchema = z.object({
  type: z.literal('feed_message'),
  sessionId: uuid,
  seq: z.number().int().positive(),
  userId: uuid,
  userName: z.string().optional(),
  timestamp: z.iso.datetime({ offset: true }),
  preview: z.string().meta({ description: `The body's first ${FEED_PREVIEW_CHARS} characters.` }),
  kind: z.string().optional().meta({ description: '`metadata.kind` of the message, when it has one.' }),
});
/** The user's own read cursor in a session moved (from any tab or client). */
export const feedReadFrameSchema = z.object({ type: z.literal('feed_read'), sessionId: uuid, seq: z.number().int().nonnegative() });
/** The user was added to a session (or created one): the socket follows it from now on. */
export const sessionAddedFrameSchema = z.object({ type: z.literal('session_added'), sessionId: uuid });
/** The user left the session (removed, or it was closed): nothing more comes from it. */
export const sessionRemovedFrameSchema = z.object({
  type: z.literal('session_removed'),
  sessionId: uuid,
  reason: z.enum(['member_removed', 'session_closed']),
});

export const feedServerFrameSchema = z.discriminatedUnion('type', [
  feedOpenFrameSchema,
  feedMessageFrameSchema,
  feedReadFrameSchema,
  analysisStatusFrameSchema,
  sessionAddedFrameSchema,
  sessionRemovedFrameSchema,
  errorFrameSchema,
  authenticatedFrameSchema,
  pongFrameSchema,
]);

export type FeedOpenFrame = z.infer<typeof feedOpenFrameSchema>;
export type FeedMessageFrame = z.infer<typeof feedMessageFrameSchema>;
export type FeedReadFrame = z.infer<typeof feedReadFrameSchema>;
export type SessionAddedFrame = z.infer<typeof sessionAddedFrameSchema>;
export type SessionRemovedFrame = z.infer<typeof sessionRemovedFrameSchema>;
export type FeedServerFrame = z.infer<typeof feedServerFrameSchema>;

/** A control event on a user's own fan-out channel, never sent to clients as is. */
export interface SessionAddedEvent {
  type: 'session_added';
  sessionId: string;
}

/** The feed's summary of a message: the fields a session list needs, the body cut to a preview. */
export function feedMessageOf(message: { sessionId: string; seq: number; userId: string; userName?: string | undefined; timestamp: string; body: string; metadata?: Record<string, unknown> }): FeedMessageFrame {
  const kind = message.metadata?.['kind'];
  return {
    type: 'feed_message',
    sessionId: message.sessionId,
    seq: message.seq,
    userId: message.userId,
    ...(message.userName === undefined ? {} : { userName: message.userName }),
    timestamp: message.timestamp,
    preview: previewOf(message.body),
    ...(typeof kind === 'string' ? { kind } : {}),
  };
}

/** The first FEED_PREVIEW_CHARS code points, never half a surrogate pair. */
function previewOf(body: string): string {
  if (body.length <= FEED_PREVIEW_CHARS) return body;
  return Array.from(body).slice(0, FEED_PREVIEW_CHARS).join('');
}
