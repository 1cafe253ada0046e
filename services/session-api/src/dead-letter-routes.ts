import type { Express, RequestHandler } from 'express';
import type { DeadLetter, DeadLetterStore } from '@chat/core';
import { ChatError, deadLetterIdParamSchema, deadLetterListQuerySchema, decodeQueuedMessage, type DeadLetterBody, type DeadLetterDetailBody, type DeadLetterList, type ReplayResult } from '@chat/protocol';
import type { ApiDeps } from './api-deps.ts';
import { principalOf } from './authenticate.ts';
import { fromDependency, parseInput } from './http-errors.ts';
import { ROUTES } from './routes.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Admin-only: list, inspect and replay the messages the persister kept as dead letters. Non-admins
 * get 403 whatever the id, so the endpoints tell them nothing.
 */
export function registerDeadLetterRoutes(app: Express, deps: ApiDeps, json: RequestHandler): void {
  const now = deps.now ?? Date.now;

  function storeFor(res: Parameters<RequestHandler>[1]): DeadLetterStore {
    if (!principalOf(res).admin) throw new ChatError('forbidden', 'Only admins (scope chat:admin) may read or replay dead letters.');
    if (deps.ports.deadLetters === undefined) throw new ChatError('unavailable', 'The dead-letter store is not configured here.');
    return deps.ports.deadLetters;
  }

  function deadLetterIdOf(params: unknown): string {
    return parseInput(deadLetterIdParamSchema, params, 'path').dead_letter_id.toLowerCase();
  }

  app.get(ROUTES.deadLetters, async (req, res) => {
    const store = storeFor(res);
    const query = parseInput(deadLetterListQuerySchema, req.query, 'query');
    const found = await fromDependency(
      'The store',
      store.list({ limit: query.limit, includeReplayed: query.includeReplayed === 'true', ...(query.sessionId === undefined ? {} : { sessionId: query.sessionId.toLowerCase() }) }),
    );
    const body: DeadLetterList = { deadLetters: found.map(toBody) };
    res.status(200).json(body);
  });

  app.get(ROUTES.deadLetter, async (req, res) => {
    const store = storeFor(res);
    const found = await fromDependency('The store', store.get(deadLetterIdOf(req.params)));
    if (found === null) throw new ChatError('not_found', 'No such dead letter.');
    res.status(200).json(toDetail(found));
  });

  // No body, but the JSON parser still refuses a malformed one.
  app.post(ROUTES.deadLetterReplay, json, async (req, res) => {
    const store = storeFor(res);
    const outcome = await fromDependency('The store', store.replay(deadLetterIdOf(req.params), new Date(now()).toISOString()));
    switch (outcome.status) {
      case 'not_found':
        throw new ChatError('not_found', 'No such dead letter.');
      case 'unreadable':
        throw new ChatError('conflict', 'The payload is not a chat message: there is nothing to replay.');
      case 'refused':
        throw new ChatError('conflict', `The store still refuses the message: ${outcome.error}`);
      case 'replayed': {
        const body: ReplayResult = { deadLetter: toBody(outcome.deadLetter), message: outcome.message, inserted: outcome.inserted };
        res.status(200).json(body);
        return;
      }
    }
  });
}

function toBody(letter: DeadLetter): DeadLetterBody {
  const { payload: _payload, ...rest } = letter;
  return { ...rest, state: letter.replayedAt === null ? 'open' : 'replayed' };
}

function toDetail(letter: DeadLetter): DeadLetterDetailBody {
  const decoded = decodeQueuedMessage(letter.payload);
  return {
    ...toBody(letter),
    payload: { base64: Buffer.from(letter.payload).toString('base64'), text: utf8OrNull(letter.payload) },
    message: decoded.ok ? decoded.message : null,
  };
}

function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}
