import { z } from 'zod';
import { DEFAULT_JSON_BOUNDS, DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_MESSAGE_CHARS, MAX_DRAIN_HINT_MS, MAX_JSON_BOUNDS } from '@chat/protocol';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const url = (protocols: RegExp, fallback: string) =>
  z.string().trim().default(fallback).pipe(z.url({ protocol: protocols, error: 'must be a URL like ' + fallback }));
/** One URL, or several separated by commas (the servers of a cluster). */
const urls = (protocols: RegExp, fallback: string) =>
  z
    .string()
    .trim()
    .default(fallback)
    .transform((value) => value.split(',').map((item) => item.trim()))
    .pipe(z.array(z.url({ protocol: protocols, error: `must be a URL like ${fallback}, or several separated by commas` })).min(1));
const list = z
  .string()
  .default('http://localhost:8080,http://127.0.0.1:8080,http://localhost:5173')
  .transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0));
const addresses = z
  .string()
  .default('')
  .transform((value) => value.split(',').map((item) => item.trim()).filter((item) => item.length > 0));
/** Origins (and optional base paths) the UI may talk to; validated here because they end up in a CSP header. */
const bases = (protocols: RegExp, example: string) =>
  addresses.pipe(z.array(z.url({ protocol: protocols, error: `must be a comma separated list of URLs like ${example}` }).refine((value) => !/[\s;,'"?#]/.test(value), 'must be a base URL without spaces, quotes, commas, semicolons, query or fragment')));
/** CSP frame-ancestors sources: 'none', 'self', or origins such as https://*.example.com or http://localhost:8501. */
const frameAncestors = z
  .string()
  .default("'self'")
  .transform((value) => value.split(/[\s,]+/).filter((item) => item.length > 0))
  .pipe(
    z
      .array(z.string().regex(/^(?:'none'|'self'|https?:\/\/(?:\*\.)?[A-Za-z0-9.-]+(?::\d{1,5})?)$/, "each entry must be 'none', 'self' or an origin like https://analysis.example.com"))
      .min(1, "name at least one source, or 'none'")
      .refine((items) => !items.includes("'none'") || items.length === 1, "'none' cannot be combined with other sources"),
  );
const flag = z
  .enum(['0', '1', 'true', 'false', ''])
  .default('')
  .transform((value) => value === '1' || value === 'true');

/**
 * Every environment variable the services read, with its default. Adding one here is the
 * only way to make a setting configurable; the README's table mirrors this list.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  CHAT_BACKEND: z.enum(['services', 'embedded']).default('services'),
  REDIS_URL: url(/^rediss?$/, 'redis://127.0.0.1:6379'),
  REDIS_MODE: z.enum(['single', 'cluster']).default('single'),
  NATS_URL: urls(/^(nats|tls|wss?)$/, 'nats://127.0.0.1:4222'),
  DATABASE_URL: url(/^postgres(ql)?$/, 'postgres://postgres@127.0.0.1:5432/postgres'),
  NATS_STREAM: z.string().regex(/^[A-Za-z0-9_-]+$/).default('CHAT_MESSAGES'),
  NATS_SUBJECT_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]+$/).default('chat.messages'),
  NATS_CONSUMER: z.string().regex(/^[A-Za-z0-9_-]+$/).default('persister'),
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/ }).optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  HOST: z.string().default('0.0.0.0'),
  GATEWAY_PORT: port(8080),
  API_PORT: port(8081),
  PERSISTER_PORT: port(8082),
  ALLOWED_ORIGINS: list,
  MAX_MESSAGE_CHARS: positiveInt(DEFAULT_MAX_MESSAGE_CHARS),
  MAX_FRAME_BYTES: positiveInt(DEFAULT_MAX_FRAME_BYTES),
  RATE_LIMIT_PER_SEC: positiveInt(20),
  RATE_LIMIT_BURST: positiveInt(40),
  SESSION_CREATE_PER_MINUTE: positiveInt(30),
  MAX_JSON_DEPTH: z.coerce.number().int().min(2).max(MAX_JSON_BOUNDS.maxDepth).default(DEFAULT_JSON_BOUNDS.maxDepth),
  MAX_JSON_ENTRIES: z.coerce.number().int().min(8).max(MAX_JSON_BOUNDS.maxEntries).default(DEFAULT_JSON_BOUNDS.maxEntries),
  MAX_CONNECTIONS_PER_USER: positiveInt(50),
  MAX_CONNECTIONS_PER_IP: positiveInt(1000),
  TRUSTED_PROXIES: addresses,
  HTTP_HEADERS_TIMEOUT_MS: positiveInt(5_000),
  HTTP_REQUEST_TIMEOUT_MS: positiveInt(10_000),
  WELCOME_TIMEOUT_MS: positiveInt(5_000),
  SLOW_CONSUMER_BYTES: positiveInt(4 * 1024 * 1024),
  HEARTBEAT_INTERVAL_MS: positiveInt(30_000),
  PRESENCE_TTL_MS: positiveInt(30_000),
  RECENT_MESSAGES: positiveInt(1000),
  SHUTDOWN_GRACE_MS: positiveInt(10_000),
  DRAIN_RECONNECT_WINDOW_MS: z.coerce.number().int().min(0).max(MAX_DRAIN_HINT_MS).default(10_000),
  DEPENDENCY_LOSS_HANDOVER_MS: z.coerce.number().int().min(0).default(0),
  PERSIST_BATCH_SIZE: positiveInt(500),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INSTANCE_ID: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  DEV_SIGNIN: flag,
  WEB_ROOT: z.string().min(1).optional(),
  WEB_API_URLS: bases(/^https?$/, 'https://api.example.com'),
  WEB_WS_URLS: bases(/^wss?$/, 'wss://chat.example.com'),
  WEB_FRAME_ANCESTORS: frameAncestors,
  CHAT_DISABLED: flag,
  CHAT_SWITCH_POLL_MS: positiveInt(1000),
  ANALYSIS_LINK_HOSTS: addresses,
  PEOPLE_LOOKUP_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL like https://finance.example.com/people' }).optional(),
  PEOPLE_LOOKUP_TIMEOUT_MS: z.coerce.number().int().min(50).max(10_000).default(800),
});

export type Env = z.output<typeof envSchema>;
