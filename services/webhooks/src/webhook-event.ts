import type { ChatMessage } from '@chat/protocol';
import type { WebhookEventType } from './webhook-endpoints.ts';

/** One event as the receiver gets it; `id` is the same on every attempt and replica, for de-duplication. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: ChatMessage;
}

export function messageCreated(message: ChatMessage): WebhookEvent {
  return { id: `message.created:${message.id}`, type: 'message.created', createdAt: message.timestamp, data: message };
}
