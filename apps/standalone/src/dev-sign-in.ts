import type { IncomingMessage, ServerResponse } from 'node:http';
import { signToken } from '@chat/auth';
import type { ChatStore, SessionState } from '@chat/core';
import { sendJson } from '@chat/service-kit';
import { devUserId, parseDevName } from './dev-identity.ts';

const MAX_BODY_BYTES = 1024;
/** A fixed id, so every person who signs in meets the others in the same room. */
export const LOBBY_SESSION_ID = '00000000-0000-4000-8000-00000000c4a7';

export interface DevSignInDeps {
  secret: string;
  store: ChatStore;
  state: SessionState;
}

/**
 * `POST /dev/token {name}` → `{token, userId, name, sessionId}`: development only. The person joins
 * the shared lobby, so two browser tabs can chat at once without any set-up.
 */
export function createDevSignIn(deps: DevSignInDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method === 'GET') return sendJson(res, 200, { available: true, method: 'POST', body: { name: 'string' } });
    if (req.method !== 'POST') return sendJson(res, 405, { error: { code: 'invalid_input', message: 'use POST' } });
    void readJson(req).then(
      async (body) => {
        const parsed = parseDevName((body as { name?: unknown } | null)?.name);
        if (!parsed.ok) return sendJson(res, 400, { error: { code: 'invalid_input', message: parsed.message } });
        const userId = devUserId(parsed.name);
        await joinLobby(deps, userId);
        const token = await signToken(deps.secret, { userId, name: parsed.name, ttlSeconds: 7 * 24 * 3600 });
        sendJson(res, 200, { token, userId, name: parsed.name, sessionId: LOBBY_SESSION_ID });
      },
      () => sendJson(res, 400, { error: { code: 'invalid_input', message: 'body must be JSON like {"name":"Ada"}' } }),
    ).catch(() => sendJson(res, 500, { error: { code: 'internal', message: 'sign-in failed' } }));
  };
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

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
    req.on('error', reject);
  });
}
