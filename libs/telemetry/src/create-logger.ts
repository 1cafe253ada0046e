import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, stdSerializers, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Keys whose values are secrets or user content; redacted at the top level and two levels down. */
const SENSITIVE_KEYS = [
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'authorization',
  'Authorization',
  'cookie',
  'set-cookie',
  'password',
  'secret',
  'jwt',
  'body',
] as const;

export const REDACTED_PATHS: readonly string[] = SENSITIVE_KEYS.flatMap((key) => {
  const safe = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const join = (prefix: string) => (safe.startsWith('[') ? `${prefix}${safe}` : `${prefix}.${safe}`);
  return [safe, join('*'), join('*.*')];
});

export const REDACTED = '[redacted]';

/** Drops the `token` query parameter so WebSocket URLs can be logged. */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt < 0) return url;
  const params = new URLSearchParams(url.slice(queryAt + 1));
  if (!params.has('token')) return url;
  params.set('token', REDACTED);
  return `${url.slice(0, queryAt)}?${params.toString()}`;
}

interface RequestLike {
  method?: string;
  url?: string;
  socket?: { remoteAddress?: string };
}

/** Deliberately leaves headers out: they carry the bearer token and cookies. */
function serializeRequest(req: RequestLike) {
  return { method: req.method, url: req.url === undefined ? undefined : redactUrl(req.url), remoteAddress: req.socket?.remoteAddress };
}

/** Puts the active span's ids on every line so logs join up with traces. */
function traceMixin(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const context = span.spanContext();
  if (!isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId, trace_flags: `0${context.traceFlags.toString(16)}` };
}

function resolveLevel(level: string | undefined): string {
  const wanted = (level ?? process.env.LOG_LEVEL ?? 'info').trim().toLowerCase();
  return LEVELS.has(wanted) ? wanted : 'info';
}

/**
 * Structured JSON logger for one service. The level comes from the argument, else LOG_LEVEL,
 * else `info`. Tokens, authorization headers and message bodies are redacted.
 */
export function createLogger(service: string, level?: string, destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level: resolveLevel(level),
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: traceMixin,
    redact: { paths: [...REDACTED_PATHS], censor: REDACTED },
    serializers: {
      err: stdSerializers.err,
      error: stdSerializers.err,
      req: serializeRequest,
      url: (url: unknown) => (typeof url === 'string' ? redactUrl(url) : url),
    },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
