import { z } from 'zod';

export const WEBHOOK_EVENT_TYPES = ['message.created', 'session.closed', 'member.removed', 'member.unread_offline'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Below the queue's 30 s ack wait, so a slow receiver never makes JetStream redeliver an attempt still in flight. */
export const MAX_TIMEOUT_MS = 25_000;

const endpointSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'id: 1-32 of a-z, 0-9, _ and -'),
  url: z.url({ protocol: /^https?$/ }),
  /** Several while a key is rotated: every delivery is signed with each. */
  secrets: z.array(z.string().min(16, 'secrets must be at least 16 characters')).min(1),
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).default([...WEBHOOK_EVENT_TYPES]),
  timeoutMs: z.number().int().min(100).max(MAX_TIMEOUT_MS).default(5_000),
  maxAttempts: z.number().int().min(1).max(100).default(12),
  retryBaseMs: z.number().int().min(10).default(1_000),
  retryMaxMs: z.number().int().min(10).default(600_000),
});
export type WebhookEndpoint = z.output<typeof endpointSchema>;

const endpointsSchema = z.array(endpointSchema).refine((list) => new Set(list.map((e) => e.id)).size === list.length, { message: 'endpoint ids must be unique' });

export interface WebhookSettings {
  port: number;
  endpoints: readonly WebhookEndpoint[];
  deadLetterStream: string;
  /** Durable consumers are named `<prefix>_<endpoint id>`. */
  consumerPrefix: string;
  /** member.unread_offline fires once a member has had unread messages this long while offline. */
  unreadOfflineMinutes: number;
}

export class WebhookConfigError extends Error {
  override readonly name = 'WebhookConfigError';
}

/** WEBHOOK_PORT, WEBHOOK_ENDPOINTS (a JSON array) and WEBHOOK_DEAD_LETTER_STREAM; errors name the variable. */
export function loadWebhookSettings(env: Record<string, string | undefined>): WebhookSettings {
  const port = Number(env['WEBHOOK_PORT'] ?? '8083');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new WebhookConfigError('WEBHOOK_PORT: must be a port number');
  let raw: unknown;
  try {
    raw = JSON.parse(env['WEBHOOK_ENDPOINTS'] ?? '[]');
  } catch {
    throw new WebhookConfigError('WEBHOOK_ENDPOINTS: not valid JSON');
  }
  const parsed = endpointsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WebhookConfigError(`WEBHOOK_ENDPOINTS: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const deadLetterStream = env['WEBHOOK_DEAD_LETTER_STREAM'] ?? 'WEBHOOK_DEAD_LETTERS';
  if (!/^[A-Za-z0-9_-]+$/.test(deadLetterStream)) throw new WebhookConfigError('WEBHOOK_DEAD_LETTER_STREAM: letters, digits, _ and - only');
  const consumerPrefix = env['WEBHOOK_CONSUMER_PREFIX'] ?? 'webhooks';
  if (!/^[A-Za-z0-9_-]+$/.test(consumerPrefix)) throw new WebhookConfigError('WEBHOOK_CONSUMER_PREFIX: letters, digits, _ and - only');
  const unreadOfflineMinutes = Number(env['WEBHOOK_UNREAD_OFFLINE_MINUTES'] ?? '10');
  // Fractions of a minute are allowed (tests use seconds); the upper bound keeps the wait inside the stream's 7-day age.
  if (!Number.isFinite(unreadOfflineMinutes) || unreadOfflineMinutes < 0.01 || unreadOfflineMinutes > 10_080) {
    throw new WebhookConfigError('WEBHOOK_UNREAD_OFFLINE_MINUTES: a number of minutes from 0.01 to 10080');
  }
  return Object.freeze({ port, endpoints: Object.freeze(parsed.data), deadLetterStream, consumerPrefix, unreadOfflineMinutes });
}

/** For main: one line naming the variable, then exit, as every service does with a bad setting. */
export function loadWebhookSettingsOrExit(env: Record<string, string | undefined>): WebhookSettings {
  try {
    return loadWebhookSettings(env);
  } catch (error) {
    if (!(error instanceof WebhookConfigError)) throw error;
    console.error(`configuration error: ${error.message}`);
    process.exit(1);
  }
}
