import type { Express, RequestHandler } from 'express';
import { HistoryReader } from '@chat/core';
import { ChatError, exceedsChars, postMessageBodySchema } from '@chat/protocol';
import { chatMetrics, injectTraceHeaders, stopwatch } from '@chat/telemetry';
import type { ApiDeps } from './api-deps.ts';
import { principalOf } from './authenticate.ts';
import { fromDependency, fromHistory, parseInput } from './http-errors.ts';
import { MessageRateLimiter } from './message-rate-limiter.ts';
import { ROUTES } from './routes.ts';
import { sessionIdOf } from './session-access.ts';
import { refuseForeignLink } from './workspace-routes.ts';

/** Posting a message: the same intake as a WebSocket `send`, so live clients receive it at once. */
export function registerMessageRoutes(app: Express, deps: ApiDeps, json: RequestHandler): void {
  const { config } = deps;
  const { directory, intake, state, store, queue } = deps.ports;
  // The intake answers a repeat with the first message's id and seq; its body is read back from wherever it is now.
  const history = new HistoryReader({ store, state, queue });
  const limiter = new MessageRateLimiter({
    perSec: config.limits.ratePerSec,
    burst: config.limits.rateBurst,
    ...(deps.ports.rateLimiter === undefined ? {} : { limiter: deps.ports.rateLimiter }),
  });

  app.post(ROUTES.messages, json, async (req, res) => {
    const elapsed = stopwatch();
    const caller = principalOf(res);
    const sessionId = sessionIdOf(req);
    // Admins are trusted backends posting on behalf of many sessions; users are limited.
    if (!caller.admin) {
      const decision = await limiter.take(caller.userId);
      if (!decision.allowed) {
        chatMetrics().rateLimitHits.add(1, { transport: 'rest' });
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))));
        throw new ChatError('rate_limited');
      }
    }
    const body = parseInput(postMessageBodySchema, req.body, 'body');
    refuseForeignLink(body.metadata, config.analysisLinkHosts);
    if (exceedsChars(body.body, config.limits.maxMessageChars)) {
      throw new ChatError('too_large', `body is longer than ${config.limits.maxMessageChars} characters`);
    }
    const access = await fromDependency('Live session state', directory.authorize(sessionId, { userId: caller.userId, admin: caller.admin }));
    if (access !== 'ok') throw new ChatError(access);
    const result = await intake.accept({
      sessionId,
      userId: caller.userId,
      ...(caller.name === undefined ? {} : { userName: caller.name }),
      ...(body.clientMsgId === undefined ? {} : { clientMsgId: body.clientMsgId }),
      body: body.body,
      ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
      // The persister's span joins this request's trace.
      headers: injectTraceHeaders(),
    });
    if (!result.ok) throw new ChatError(result.code, undefined, { cause: result.cause });
    if (!result.duplicate) chatMetrics().messagesAccepted.add(1, { transport: 'rest' });
    chatMetrics().sendAckLatency.record(elapsed(), { transport: 'rest' });
    // A repeated clientMsgId gives back the first message, with the same status, so a retry looks like the original.
    const first = result.duplicate ? await fromHistory(history.message(sessionId, result.message.seq, result.message.id)) : undefined;
    res.status(201).json(first ?? result.message);
  });
}
