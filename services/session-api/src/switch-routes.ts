import type { Express, RequestHandler } from 'express';
import { ChatSwitchHeldError } from '@chat/core';
import { ChatError, setChatSwitchBodySchema, type ChatStatus } from '@chat/protocol';
import type { ApiDeps } from './api-deps.ts';
import { principalOf } from './authenticate.ts';
import { parseInput } from './http-errors.ts';
import { ROUTES } from './routes.ts';

function statusOf(deps: ApiDeps): ChatStatus {
  return { chat: deps.chatSwitch?.state ?? 'on', heldBy: deps.chatSwitch?.heldBy ?? 'switch' };
}

/** `GET /status`: whether chat is on, for clients and embedding pages; needs no token. */
export function registerStatusRoute(app: Express, deps: ApiDeps): void {
  app.get(ROUTES.status, (_req, res) => {
    // Clients poll it while chat is off; a short cache spares the replicas without delaying the way back much.
    res.set('cache-control', 'max-age=5').status(200).json(statusOf(deps));
  });
}

/** While chat is off, every write (creating sessions, adding members, posting) is answered 503 chat_disabled; reads go on. */
export function refuseWritesWhileOff(deps: ApiDeps): RequestHandler {
  return (req, _res, next) => {
    if (req.method === 'POST' && `${req.baseUrl}${req.path}` !== ROUTES.chatSwitch && deps.chatSwitch?.isOn === false) return next(new ChatError('chat_disabled'));
    next();
  };
}

/** `POST /api/chat/admin/switch` `{chat: "on" | "off"}` (scope chat:admin): every replica follows within CHAT_SWITCH_POLL_MS. */
export function registerSwitchRoute(app: Express, deps: ApiDeps, json: RequestHandler): void {
  app.post(ROUTES.chatSwitch, json, async (req, res) => {
    if (!principalOf(res).admin) throw new ChatError('forbidden', 'Only an admin (scope chat:admin) may turn chat on or off.');
    const body = parseInput(setChatSwitchBodySchema, req.body, 'body');
    const chatSwitch = deps.chatSwitch;
    if (chatSwitch === undefined) throw new ChatError('conflict', 'This process has no chat switch.');
    try {
      await chatSwitch.set(body.chat);
    } catch (error) {
      if (error instanceof ChatSwitchHeldError) throw new ChatError('conflict', error.message);
      throw new ChatError('unavailable', 'The chat switch could not be written.', { cause: error });
    }
    deps.logger.warn({ chat: body.chat, by: principalOf(res).userId }, 'chat switch set');
    res.status(200).json(statusOf(deps));
  });
}
