import { describe, expect, it } from '@jest/globals';
import { loadWebhookSettings } from './webhook-endpoints.ts';

const endpoint = { id: 'finance', url: 'https://fin.example/hooks', secrets: ['0123456789abcdef'] };
const load = (endpoints: unknown, env: Record<string, string> = {}) => loadWebhookSettings({ WEBHOOK_ENDPOINTS: typeof endpoints === 'string' ? endpoints : JSON.stringify(endpoints), ...env });

describe('webhook settings', () => {
  it('fill in the defaults of an endpoint', () => {
    const settings = load([endpoint]);
    expect(settings.endpoints).toEqual([{ ...endpoint, events: ['message.created', 'session.closed', 'member.removed', 'member.unread_offline'], timeoutMs: 5000, maxAttempts: 12, retryBaseMs: 1000, retryMaxMs: 600000 }]);
    expect(settings).toMatchObject({ port: 8083, deadLetterStream: 'WEBHOOK_DEAD_LETTERS', consumerPrefix: 'webhooks', unreadOfflineMinutes: 10 });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('are empty without endpoints', () => {
    expect(loadWebhookSettings({}).endpoints).toEqual([]);
  });

  it.each([
    ['not JSON', '[{', /^WEBHOOK_ENDPOINTS: not valid JSON$/],
    ['a duplicate id', [endpoint, endpoint], /^WEBHOOK_ENDPOINTS: .*unique/],
    ['a url that is not http', [{ ...endpoint, url: 'ftp://x.example/' }], /^WEBHOOK_ENDPOINTS: 0\.url: /],
    ['a short secret', [{ ...endpoint, secrets: ['short'] }], /^WEBHOOK_ENDPOINTS: 0\.secrets\.0: secrets must be at least 16/],
    ['no secret', [{ ...endpoint, secrets: [] }], /^WEBHOOK_ENDPOINTS: 0\.secrets: /],
    ['a timeout past the ack wait', [{ ...endpoint, timeoutMs: 30_000 }], /^WEBHOOK_ENDPOINTS: 0\.timeoutMs: /],
    ['an unknown event', [{ ...endpoint, events: ['session.opened'] }], /^WEBHOOK_ENDPOINTS: 0\.events\.0: /],
    ['an unknown field', [{ ...endpoint, secret: 'x' }], /^WEBHOOK_ENDPOINTS: /],
    ['a bad id', [{ ...endpoint, id: 'Finance Team' }], /^WEBHOOK_ENDPOINTS: 0\.id: /],
  ])('refuse %s, naming the variable and the field', (_case, endpoints, message) => {
    expect(() => load(endpoints)).toThrow(message);
  });

  it('refuse a bad port, stream name or consumer prefix', () => {
    expect(() => load([], { WEBHOOK_PORT: 'x' })).toThrow(/^WEBHOOK_PORT: /);
    expect(() => load([], { WEBHOOK_DEAD_LETTER_STREAM: 'a.b' })).toThrow(/^WEBHOOK_DEAD_LETTER_STREAM: /);
    expect(() => load([], { WEBHOOK_CONSUMER_PREFIX: 'a b' })).toThrow(/^WEBHOOK_CONSUMER_PREFIX: /);
    for (const minutes of ['0', '-1', 'ten', '20000']) expect(() => load([], { WEBHOOK_UNREAD_OFFLINE_MINUTES: minutes })).toThrow(/^WEBHOOK_UNREAD_OFFLINE_MINUTES: /);
    expect(load([], { WEBHOOK_UNREAD_OFFLINE_MINUTES: '0.05' }).unreadOfflineMinutes).toBe(0.05);
  });
});
