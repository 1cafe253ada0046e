import type { IncomingMessage, ServerResponse } from 'node:http';
import { signToken } from '@chat/auth';
import type { ChatStore, SessionRoster } from '@chat/core';
import { sendJson } from '@chat/service-kit';
import { devUserId, parseDevName } from './dev-identity.ts';
import { contentTypeRefusal, crossSiteRefusal, declaredSizeRefusal, tooLarge, type Refusal } from './dev-request-guard.ts';

export const MAX_SIGN_IN_BODY_BYTES = 1024;
/** A fixed id, so every person who signs in meets the others in the same room. */
export const LOBBY_SESSION_ID = '00000000-0000-4000-8000-00000000c4a7';

export interface DevSignInDeps {
  secret: string;
  store: ChatStore;
  state: SessionRoster;
  /** Browser origins besides the page's own that may sign in (ALLOWED_ORIGINS). */
  allowedOrigins?: readonly string[];
}

/**
 * `POST /dev/token {name}` → `{token, userId, name, sessionId}`: development only. The person joins
 * the shared lobby, so two browser tabs can chat at once without any set-up.
 */
export function createDevSignIn(deps: DevSignInDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method === 'GET') return sendJson(res, 200, { available: true, method: 'POST', body: { name: 'string' } });
    if (req.method !== 'POST') return refuse(req, res, { status: 405, code: 'invalid_input', message: 'use POST' });
    const refusal = crossSiteRefusal(req, deps.allowedOrigins ?? []) ?? contentTypeRefusal(req) ?? declaredSizeRefusal(req, MAX_SIGN_IN_BODY_BYTES);
    if (refusal) return refuse(req, res, refusal);
    void readBody(req, MAX_SIGN_IN_BODY_BYTES).then(
      async (text) => {
        if (text === undefined) return refuse(req, res, tooLarge(MAX_SIGN_IN_BODY_BYTES));
        const body = parseJson(text);
        if (body === undefined) return sendJson(res, 400, { error: { code: 'invalid_input', message: 'body must be JSON like {"name":"Ada"}' } });
        const parsed = parseDevName(typeof body === 'object' && body !== null && 'name' in body ? body.name : undefined);
        if (!parsed.ok) return sendJson(res, 400, { error: { code: 'invalid_input', message: parsed.message } });
        const userId = devUserId(parsed.name);
        await joinLobby(deps, userId);
        const token = await signToken(deps.secret, { userId, name: parsed.name, ttlSeconds: 7 * 24 * 3600 });
        sendJson(res, 200, { token, userId, name: parsed.name, sessionId: LOBBY_SESSION_ID });
      },
      () => undefined, // The client went away mid-body: nobody to answer.
    ).catch(() => sendJson(res, 500, { error: { code: 'internal', message: 'sign-in failed' } }));
  };
}

/**
 * Answers and closes the connection: a body still on its way is not read (beyond a short drain,
 * so the client sees the answer rather than a reset).
 */
function refuse(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
  res.setHeader('connection', 'close');
  sendJson(res, refusal.status, { error: { code: refusal.code, message: refusal.message } });
  req.resume();
  const drain = setTimeout(() => req.socket.destroy(), 1_000);
  drain.unref();
  req.once('end', () => clearTimeout(drain));
}

async function joinLobby(deps: DevSignInDeps, userId: string): Promise<void> {
  const existing = await deps.store.getSession(LOBBY_SESSION_ID);
  if (!existing) {
    await deps.store.createSession({ id: LOBBY_SESSION_ID, title: 'Lobby', members: [userId], metadata: {}, createdAt: new Date().toISOString() });
  } else if (!existing.members.includes(userId)) {
    await deps.store.addMembers(LOBBY_SESSION_ID, [userId]);
  }
  // Live state may hold the lobby already; keep its member set in step with the store.
  await deps.state.addMembers(LOBBY_SESSION_ID, [userId]);
}

/** The body as text, or undefined once it passes `maxBytes` (the rest is left unread). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      resolve(undefined);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
