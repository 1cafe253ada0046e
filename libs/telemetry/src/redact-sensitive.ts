import { stdSerializers } from 'pino';

/** Keys whose values are secrets or user content, wherever they sit in a logged object. */
export const SENSITIVE_KEYS: ReadonlySet<string> = new Set([
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'password',
  'secret',
  'jwt',
  'body',
]);

export const REDACTED = '[redacted]';

/** Deep enough for `batch.messages[i].message.body`; deeper data is left as it is. */
const MAX_DEPTH = 8;

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An error as pino prints it (type, message and stack with causes, own fields), as a plain object. */
function viewOfError(error: Error): Record<string, unknown> {
  return { ...stdSerializers.err(error) };
}

/**
 * Returns the value with every sensitive key replaced by `[redacted]`, copying only the objects
 * on the way to a replacement. Plain objects, arrays and errors (turned into pino's error
 * shape) are walked; other class instances (requests, sockets) are left to their serializers.
 */
export function redactSensitive(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    const items: unknown[] = value;
    let copy: unknown[] | undefined;
    items.forEach((item, index) => {
      const next = redactSensitive(item, depth + 1);
      if (next !== item) (copy ??= [...items])[index] = next;
    });
    return copy ?? value;
  }
  if (value instanceof Error) return redactSensitive(viewOfError(value), depth);
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    const next = SENSITIVE_KEYS.has(key) ? REDACTED : redactSensitive(item, depth + 1);
    if (next !== item) (copy ??= { ...value })[key] = next;
  }
  return copy ?? value;
}
