import { z } from 'zod';
import { chatMessageSchema, clientMsgIdSchema, messageMetadataSchema, metadataSchema, storableTextSchema, uuid } from './frames.ts';
import { HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT } from './limits.ts';
import { readCursorSchema } from './workspace.ts';

export const MAX_TITLE_CHARS = 200;
export const MAX_MEMBERS_PER_REQUEST = 1000;

export const sessionSchema = z
  .object({
    id: uuid,
    title: z.string().nullable(),
    members: z.array(uuid),
    metadata: z.record(z.string(), z.unknown()),
    createdAt: z.iso.datetime({ offset: true }),
    closedAt: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .meta({ id: 'Session' });
export type Session = z.infer<typeof sessionSchema>;

export const createSessionBodySchema = z
  .strictObject({
    title: storableTextSchema.max(MAX_TITLE_CHARS).optional(),
    members: z.array(uuid).max(MAX_MEMBERS_PER_REQUEST).optional(),
    metadata: metadataSchema.optional(),
  })
  .meta({ id: 'CreateSessionBody' });
export type CreateSessionBody = z.infer<typeof createSessionBodySchema>;

export const addMembersBodySchema = z
  .strictObject({ userIds: z.array(uuid).min(1).max(MAX_MEMBERS_PER_REQUEST) })
  .meta({ id: 'AddMembersBody' });
export type AddMembersBody = z.infer<typeof addMembersBodySchema>;

/** PATCH of a session: at least one field; a field left out stays, a null title clears it. */
export const updateSessionBodySchema = z
  .strictObject({
    title: storableTextSchema.max(MAX_TITLE_CHARS).nullable().optional(),
    metadata: metadataSchema.optional(),
  })
  .refine((body) => body.title !== undefined || body.metadata !== undefined, { message: 'give title, metadata or both' })
  .meta({ id: 'UpdateSessionBody' });
export type UpdateSessionBody = z.infer<typeof updateSessionBodySchema>;

/** `body` length is checked against MAX_MESSAGE_CHARS by the handler, to answer 413 rather than 400. */
export const postMessageBodySchema = z
  .strictObject({
    body: storableTextSchema.min(1),
    clientMsgId: clientMsgIdSchema.optional(),
    metadata: messageMetadataSchema.optional(),
  })
  .meta({ id: 'PostMessageBody' });
export type PostMessageBody = z.infer<typeof postMessageBodySchema>;

const seqCursor = z.coerce.number().int().nonnegative();

export const historyQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(HISTORY_MAX_LIMIT).default(HISTORY_DEFAULT_LIMIT),
    before: seqCursor.optional(),
    after: seqCursor.optional(),
  })
  .refine((q) => q.before === undefined || q.after === undefined, { message: 'use either before or after, not both' });
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

export const historyResponseSchema = z
  .object({
    messages: z.array(chatMessageSchema),
    hasMore: z.boolean(),
    /** Each member's read cursor (members who never read are left out); absent where the deployment keeps none. */
    reads: z.array(readCursorSchema).optional(),
  })
  .meta({ id: 'HistoryResponse' });
export type HistoryResponse = z.infer<typeof historyResponseSchema>;

export const errorBodySchema = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ id: 'ErrorBody' });
export type ErrorBody = z.infer<typeof errorBodySchema>;

export const sessionIdParamSchema = z.object({ session_id: uuid });
export const memberParamSchema = z.object({ session_id: uuid, user_id: uuid });

/** A token scope: a member holding it may remove other members of the sessions it belongs to. */
export const MEMBERS_SCOPE = 'chat:members';

/** Whether chat is on: the kill switch, as `GET /api/chat/status` answers it (no token needed). */
export const chatStatusSchema = z
  .object({
    chat: z.enum(['on', 'off']),
    /** `environment` when CHAT_DISABLED holds it off, which the admin switch cannot undo. */
    heldBy: z.enum(['switch', 'environment']),
  })
  .meta({ id: 'ChatStatus' });
export type ChatStatus = z.infer<typeof chatStatusSchema>;

/** `PUT /api/chat/admin/switch` (scope chat:admin): turns chat on or off on every replica. */
export const setChatSwitchBodySchema = z.strictObject({ chat: z.enum(['on', 'off']) }).meta({ id: 'SetChatSwitchBody' });
export type SetChatSwitchBody = z.infer<typeof setChatSwitchBodySchema>;
