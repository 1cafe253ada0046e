import { z } from 'zod';
import { analysisStatusSchema } from './analysis-status.ts';

export const SESSIONS_DEFAULT_LIMIT = 20;
export const SESSIONS_MAX_LIMIT = 100;
/** Unread counts stop at this; the UI shows "999+" past it. */
export const MAX_UNREAD_COUNT = 1000;
export const MAX_ANALYSIS_ID_CHARS = 200;

/** How far one member has read in a session. */
export const readCursorSchema = z.object({ userId: z.uuid(), seq: z.number().int().nonnegative() }).meta({ id: 'ReadCursor' });
export type ReadCursor = z.infer<typeof readCursorSchema>;

/** `GET /api/chat/sessions`: the caller's sessions, newest activity first. */
export const listSessionsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(SESSIONS_MAX_LIMIT).default(SESSIONS_DEFAULT_LIMIT),
  /** `nextCursor` of the previous page. */
  cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]+$/, { message: 'not a cursor this endpoint gave out' }).optional(),
  /** Only the session(s) of this analysis (`metadata.analysisId` when the session was created). */
  analysisId: z.string().min(1).max(MAX_ANALYSIS_ID_CHARS).optional(),
});
export type ListSessionsQuery = z.infer<typeof listSessionsQuerySchema>;

export const lastMessageSchema = z
  .object({
    seq: z.number().int().positive(),
    userId: z.uuid(),
    userName: z.string().optional(),
    body: z.string(),
    timestamp: z.iso.datetime({ offset: true }),
    /** `metadata.kind` of the message, when it has one (a result card says `analysis_result`). */
    kind: z.string().optional(),
  })
  .meta({ id: 'LastMessage' });
export type LastMessage = z.infer<typeof lastMessageSchema>;

export const sessionSummarySchema = z
  .object({
    id: z.uuid(),
    title: z.string().nullable(),
    /** `metadata.analysisId` as text, or null. */
    analysisId: z.string().nullable(),
    members: z.array(z.uuid()),
    createdAt: z.iso.datetime({ offset: true }),
    /** The newer of the last stored message and the creation. */
    lastActivityAt: z.iso.datetime({ offset: true }),
    lastMessage: lastMessageSchema.nullable(),
    /** The caller's read cursor (0 before the first read). */
    readSeq: z.number().int().nonnegative(),
    /** Others' messages after the caller's cursor, counted up to MAX_UNREAD_COUNT. */
    unread: z.number().int().nonnegative(),
    analysisStatus: analysisStatusSchema.nullable(),
  })
  .meta({ id: 'SessionSummary' });
export type SessionSummary = z.infer<typeof sessionSummarySchema>;

export const sessionListSchema = z
  .object({ sessions: z.array(sessionSummarySchema), nextCursor: z.string().nullable() })
  .meta({ id: 'SessionList' });
export type SessionList = z.infer<typeof sessionListSchema>;
