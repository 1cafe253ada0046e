import { describe, it, expect } from '@jest/globals';
import { redactSensitive } from './redact-sensitive.ts';

describe('redactSensitive', () => {
  it('replaces sensitive keys at any depth, inside arrays too', () => {
    const input = { a: { b: { c: { d: { token: 't', keep: 1 } } } }, list: [{ body: 'x' }, 'plain', 3] };
    expect(redactSensitive(input)).toEqual({ a: { b: { c: { d: { token: '[redacted]', keep: 1 } } } }, list: [{ body: '[redacted]' }, 'plain', 3] });
  });

  it('leaves the logged object untouched and shares the branches that need no change', () => {
    const untouched = { id: 'm1', seq: 3 };
    const input = { message: { body: 'hello', id: 'm1' }, other: untouched };
    const output = redactSensitive(input) as typeof input;
    expect(input.message.body).toBe('hello');
    expect(output.other).toBe(untouched);
    expect(redactSensitive(untouched)).toBe(untouched);
  });

  it('walks errors as plain objects and leaves other class instances alone', () => {
    class Connection {
      token = 'kept for its own serializer';
    }
    const connection = new Connection();
    const output = redactSensitive({ err: Object.assign(new RangeError('bad'), { password: 'p' }), connection }) as Record<string, Record<string, unknown>>;
    expect(output.err).toMatchObject({ type: 'RangeError', message: 'bad', password: '[redacted]' });
    expect(output.connection).toBe(connection);
  });

  it('passes primitives and null through', () => {
    expect(redactSensitive('token')).toBe('token');
    expect(redactSensitive(null)).toBeNull();
    expect(redactSensitive(4)).toBe(4);
  });
});
