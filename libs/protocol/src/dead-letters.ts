import { z } from 'zod';
import { chatMessageSchema, uuid } from './frames.ts';

export const DEAD_LETTERS_DEFAULT_LIMIT = 50;
export const DEAD_LETTERS_MAX_LIMIT = 500;

/** A dead letter as the admin endpoints show it; `state` is `open` until a replay writes the message. */
export const deadLetterSchema = z
  .object({
    id: uuid.meta({ description: "The message's id when the payload names one, else a UUID derived from the payload's SHA-256." }),
    messageId: uuid.nullable(),
    sessionId: uuid.nullable(),
    seq: z.number().int().positive().nullable(),
    reason: z.enum(['invalid_payload', 'refused']).meta({ description: '`invalid_payload`: not a chat message; `refused`: the store refused the row after the retries.' }),
    error: z.string(),
    errorCode: z.string().nullable().meta({ description: 'SQLSTATE, when the store gave one.' }),
    attempts: z.number().int().nonnegative(),
    firstFailedAt: z.iso.datetime({ offset: true }),
    lastFailedAt: z.iso.datetime({ offset: true }),
    replayedAt: z.iso.datetime({ offset: true }).nullable(),
    state: z.enum(['open', 'replayed']),
  })
  .meta({ id: 'DeadLetter' });
export type DeadLetterBody = z.infer<typeof deadLetterSchema>;

export const deadLetterDetailSchema = deadLetterSchema
  .extend({
    payload: z.object({
      base64: z.string().meta({ description: 'The queued bytes, exactly.' }),
      text: z.string().nullable().meta({ description: 'The bytes as UTF-8, or null when they are not valid UTF-8.' }),
    }),
    message: chatMessageSchema.nullable().meta({ description: 'The payload read as a chat message, or null when it is not one (it cannot be replayed).' }),
  })
  .meta({ id: 'DeadLetterDetail' });
export type DeadLetterDetailBody = z.infer<typeof deadLetterDetailSchema>;

export const deadLetterListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(DEAD_LETTERS_MAX_LIMIT).default(DEAD_LETTERS_DEFAULT_LIMIT),
  sessionId: uuid.optional(),
  includeReplayed: z.enum(['true', 'false']).default('false').meta({ description: 'List replayed dead letters too (kept for audit).' }),
});
export type DeadLetterListQuery = z.infer<typeof deadLetterListQuerySchema>;

export const deadLetterListSchema = z.object({ deadLetters: z.array(deadLetterSchema) }).meta({ id: 'DeadLetterList' });
export type DeadLetterList = z.infer<typeof deadLetterListSchema>;

export const replayResultSchema = z
  .object({
    deadLetter: deadLetterSchema,
    message: chatMessageSchema,
    inserted: z.boolean().meta({ description: 'false when the message was already in chat_messages (a repeated replay writes nothing).' }),
  })
  .meta({ id: 'ReplayResult' });
export type ReplayResult = z.infer<typeof replayResultSchema>;

export const deadLetterIdParamSchema = z.object({ dead_letter_id: uuid });
