import { signedHeaders } from './signature.ts';
import type { WebhookEndpoint } from './webhook-endpoints.ts';

export type DeliveryOutcome =
  | { delivered: true; status: number; seconds: number }
  | { delivered: false; status?: number; error: string; seconds: number };

/**
 * One signed POST of an event's body. Only a 2xx within the endpoint's timeout counts: a receiver
 * that answers after the timeout gets the event again (at-least-once; it de-duplicates by id).
 */
export async function deliverOnce(endpoint: WebhookEndpoint, eventId: string, body: string, nowMs: () => number = Date.now): Promise<DeliveryOutcome> {
  const started = nowMs();
  const seconds = () => (nowMs() - started) / 1000;
  try {
    const response = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'chat-webhooks/1', ...signedHeaders(endpoint.secrets, eventId, Math.floor(nowMs() / 1000), body) },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(endpoint.timeoutMs),
    });
    // The body is not needed; reading it frees the connection for the next delivery.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return { delivered: true, status: response.status, seconds: seconds() };
    return { delivered: false, status: response.status, error: `HTTP ${response.status}`, seconds: seconds() };
  } catch (error) {
    const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
    return { delivered: false, error: timedOut ? `no answer within ${endpoint.timeoutMs} ms` : describe(error), seconds: seconds() };
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}
