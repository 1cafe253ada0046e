import type { SessionLifecycleEvent } from '@chat/core';
import { chatMessageSchema, type ChatMessage } from '@chat/protocol';
import { z } from 'zod';

/** One event as the receiver gets it; `id` is the same on every attempt and replica, for de-duplication. */
export type WebhookEvent = { id: string; type: 'message.created'; createdAt: string; data: ChatMessage } | SessionLifecycleEvent;

export function messageCreated(message: ChatMessage): WebhookEvent {
  return { id: `message.created:${message.id}`, type: 'message.created', createdAt: message.timestamp, data: message };
}

/** A message of the message stream as its webhook event, or undefined when it is not a chat message. */
export function fromMessageStream(raw: unknown): WebhookEvent | undefined {
  const parsed = chatMessageSchema.safeParse(raw);
  return parsed.success ? messageCreated(parsed.data) : undefined;
}

const uuid = z.string().min(1);
const base = { id: z.string().min(1), createdAt: z.string().min(1) };
const sessionEventSchema = z.discriminatedUnion('type', [
  z.object({ ...base, type: z.literal('session.closed'), data: z.object({ sessionId: uuid, closedAt: z.string(), closedBy: z.string() }) }),
  z.object({ ...base, type: z.literal('member.removed'), data: z.object({ sessionId: uuid, userId: uuid, removedBy: z.string() }) }),
  z.object({
    ...base,
    type: z.literal('member.unread_offline'),
    data: z.object({ sessionId: uuid, userId: uuid, firstUnreadSeq: z.number().int(), unreadSince: z.string(), lastConnectedAt: z.string().nullable(), offlineMinutes: z.number() }),
  }),
]);

/** An event of the session event stream, or undefined when it is not one. */
export function fromSessionEventStream(raw: unknown): WebhookEvent | undefined {
  const parsed = sessionEventSchema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
