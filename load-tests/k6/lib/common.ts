/** Shared set-up for the k6 scripts: configuration from __ENV, HS256 tokens, sessions via the REST API. */
import http from 'k6/http';
import { hmac } from 'k6/crypto';
import { b64encode } from 'k6/encoding';
import type { Options, Scenario } from 'k6/options';

export interface TestSession {
  id: string;
  members: string[];
}

export const config = {
  /** Session-api base URL. */
  apiUrl: __ENV['API_URL'] ?? 'http://127.0.0.1:8081',
  /** Gateway base URLs (comma separated); virtual users spread over them. */
  gatewayUrls: (__ENV['GATEWAY_URLS'] ?? 'ws://127.0.0.1:8080').split(',').map((url) => url.trim()),
  /** The services' JWT_SECRET (HS256, at least 32 characters). */
  jwtSecret: __ENV['JWT_SECRET'] ?? '',
  sessions: Number(__ENV['SESSIONS'] ?? '50'),
  membersPerSession: Number(__ENV['MEMBERS'] ?? '20'),
};

function base64url(text: string): string {
  return b64encode(text, 'rawurl');
}

/** A signed HS256 JWT with the claims the services read: sub, name, exp and optional scope. */
export function signToken(sub: string, name: string, scope?: string, ttlSeconds = 3600): string {
  if (config.jwtSecret.length < 32) throw new Error('set JWT_SECRET (at least 32 characters) to the services\' secret');
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims: Record<string, string | number> = { sub, name, exp: Math.floor(Date.now() / 1000) + ttlSeconds };
  if (scope !== undefined) claims['scope'] = scope;
  const payload = base64url(JSON.stringify(claims));
  const signature = hmac('sha256', config.jwtSecret, `${header}.${payload}`, 'base64rawurl');
  return `${header}.${payload}.${signature}`;
}

/** A random v4 UUID; k6 has no crypto.randomUUID. */
export function uuid(): string {
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
    const r = Math.floor(Math.random() * 16);
    return (c === 'x' ? r : (r & 0x3) | 0x8).toString(16);
  });
}

/** Creates sessions as a service caller (scope chat:admin), members chosen here. */
export function createSessions(count: number, membersPerSession: number): TestSession[] {
  const admin = signToken(uuid(), 'k6 admin', 'chat:admin');
  const sessions: TestSession[] = [];
  for (let i = 0; i < count; i++) {
    const members = Array.from({ length: membersPerSession }, () => uuid());
    const response = http.post(`${config.apiUrl}/api/chat/sessions`, JSON.stringify({ title: `k6 ${i}`, members }), {
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    });
    if (response.status !== 201) throw new Error(`POST /api/chat/sessions answered ${response.status}: ${typeof response.body === 'string' ? response.body : ''}`);
    sessions.push({ id: (response.json() as { id: string }).id, members });
  }
  return sessions;
}

/** Which session, member and gateway a virtual user plays: spread evenly over all three. */
export function seatFor(vu: number, sessions: readonly TestSession[]): { session: TestSession; userId: string; gatewayUrl: string } {
  const index = vu - 1;
  const session = sessions[index % sessions.length];
  if (!session) throw new Error('no session was created in setup()');
  const userId = session.members[Math.floor(index / sessions.length) % session.members.length] ?? uuid();
  const gatewayUrl = config.gatewayUrls[index % config.gatewayUrls.length] ?? 'ws://127.0.0.1:8080';
  return { session, userId, gatewayUrl };
}

export function chatUrl(gatewayUrl: string, sessionId: string, token: string): string {
  return `${gatewayUrl}/ws/chat/${sessionId}?token=${encodeURIComponent(token)}`;
}

/** The seed's targets, shared by every script: p95 latency under 100 ms, errors under 1 %. */
export const SEED_LATENCY_P95 = 'p(95)<100';
export const SEED_ERROR_RATE = 'rate<0.01';

/**
 * @types/k6 declares scenarios as classes though k6 takes plain objects; this is the same
 * shape as a plain object type, so options are checked field by field.
 */
type Plain<T> = { [K in keyof T]: T[K] };
export type ScriptOptions = Omit<Options, 'scenarios'> & { scenarios: Record<string, Plain<Scenario>> };
