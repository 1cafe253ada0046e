import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { chatMessageSchema } from './frames.ts';
import { decodeQueuedMessage, plainChatMessage } from './queued-message.ts';

const encoder = new TextEncoder();

/** Messages as the gateway writes them. */
const gatewayMessage = fc.record(
  {
    type: fc.constant('message'),
    id: fc.uuid(),
    sessionId: fc.uuid(),
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    userId: fc.uuid(),
    userName: fc.string(),
    body: fc.string({ unit: 'binary' }),
    // A `__proto__` key is left to the schema (see the last test).
    metadata: fc.dictionary(fc.string().filter((key) => key !== '__proto__'), fc.jsonValue()),
    timestamp: fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((date) => date.toISOString()),
    clientMsgId: fc.string(),
  },
  { requiredKeys: ['type', 'id', 'sessionId', 'seq', 'userId', 'body', 'metadata', 'timestamp'] },
);

/** A gateway message with one field changed, added or removed: what a broken or hostile writer might queue. */
const alteredMessage = fc.tuple(gatewayMessage, fc.constantFrom('type', 'id', 'sessionId', 'seq', 'userId', 'userName', 'body', 'metadata', 'timestamp', 'clientMsgId', 'state', '__proto__', 'extra'), fc.option(fc.jsonValue(), { nil: undefined })).map(([message, key, value]) => {
  const altered = Object.entries(message).filter(([name]) => name !== key);
  return Object.fromEntries(value === undefined ? altered : [...altered, [key, value]]);
});

/** What decoding answered before the quick check: the schema alone. */
function schemaOnly(raw: unknown): { ok: boolean; message?: unknown } {
  const parsed = chatMessageSchema.safeParse(raw);
  return parsed.success ? { ok: true, message: parsed.data } : { ok: false };
}

describe('decodeQueuedMessage', () => {
  it('takes the quick check for every message the gateway writes, with what the schema returns', () => {
    fc.assert(
      fc.property(gatewayMessage, (message) => {
        const raw: unknown = JSON.parse(JSON.stringify(message));
        expect(plainChatMessage(raw)).toEqual(chatMessageSchema.parse(raw));
        expect(decodeQueuedMessage(encoder.encode(JSON.stringify(message)))).toEqual({ ok: true, message: chatMessageSchema.parse(raw) });
      }),
    );
  });

  it('accepts and refuses exactly what the schema does, whatever a writer changed', () => {
    fc.assert(
      fc.property(fc.oneof(alteredMessage, fc.jsonValue()), (value) => {
        const text = JSON.stringify(value);
        const raw: unknown = JSON.parse(text);
        const reference = schemaOnly(raw);
        const quick = plainChatMessage(raw);
        if (quick !== undefined) expect(reference).toEqual({ ok: true, message: quick });
        const decoded = decodeQueuedMessage(encoder.encode(text));
        expect(decoded.ok).toBe(reference.ok);
        if (decoded.ok) expect(decoded.message).toEqual(reference.message);
        else expect(decoded.problem).toMatch(/^payload is not a chat message \(/);
      }),
      { numRuns: 500 },
    );
  });

  it('leaves a message whose metadata carries a __proto__ key to the schema, which drops that key', () => {
    const text = JSON.stringify({ type: 'message', id: crypto.randomUUID(), sessionId: crypto.randomUUID(), seq: 1, userId: crypto.randomUUID(), body: 'hi', timestamp: new Date().toISOString(), metadata: {} }).replace('"metadata":{}', '"metadata":{"__proto__":{"x":1}}');
    const raw: unknown = JSON.parse(text);
    expect(plainChatMessage(raw)).toBeUndefined();
    expect(decodeQueuedMessage(encoder.encode(text))).toEqual({ ok: true, message: schemaOnly(raw).message });
    expect(schemaOnly(raw).message).toMatchObject({ metadata: {} });
  });
});
