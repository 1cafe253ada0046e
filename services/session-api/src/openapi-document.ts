import {
  addMembersBodySchema,
  analysisResultSchema,
  analysisStatusBodySchema,
  analysisStatusSchema,
  listSessionsQuerySchema,
  peopleListSchema,
  peopleQuerySchema,
  sessionListSchema,
  chatMessageSchema,
  chatStatusSchema,
  setChatSwitchBodySchema,
  createSessionBodySchema,
  deadLetterDetailSchema,
  deadLetterIdParamSchema,
  deadLetterListQuerySchema,
  deadLetterListSchema,
  replayResultSchema,
  errorBodySchema,
  historyQuerySchema,
  historyResponseSchema,
  postMessageBodySchema,
  searchQuerySchema,
  searchResponseSchema,
  sessionIdParamSchema,
  sessionSchema,
  memberParamSchema,
  updateSessionBodySchema,
} from '@chat/protocol';
import { z } from 'zod';
import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiResponsesObject } from 'zod-openapi';
import { ROUTES, toOpenApiPath } from './routes.ts';

type OpenApiDocument = ReturnType<typeof createDocument>;

const readinessSchema = z
  .object({ ready: z.boolean(), checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })) })
  .meta({ id: 'ReadinessReport' });

const ERROR_DESCRIPTIONS = {
  400: 'Invalid input: malformed JSON, a bad UUID, or a value outside its schema (`invalid_input`).',
  401: 'No token, or a bad or expired one (`unauthorized`).',
  403: 'The caller is not a member of the session, or not an admin where one is needed (`forbidden`).',
  404: 'Unknown or closed session, or no such dead letter (`not_found`).',
  413: 'The message body is longer than MAX_MESSAGE_CHARS, the metadata over 4 KiB, or the request body over the size limit (`too_large`).',
  429: 'Too many messages from this caller (`rate_limited`); see Retry-After.',
  409: 'The request conflicts with the current state (`conflict`); for a replay, the payload is not a chat message, or the store still refuses it.',
  503: 'A dependency (store, Redis, NATS) is unavailable (`unavailable`); retry later. On writes also while chat is turned off (`chat_disabled`): do not retry until GET /status says `on`.',
} as const;

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS;

const retryAfter = z.object({ 'Retry-After': z.string().meta({ description: 'Seconds until a message would be accepted again.' }) });

function errors(...statuses: ErrorStatus[]): ZodOpenApiResponsesObject {
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: ERROR_DESCRIPTIONS[status],
        ...(status === 429 ? { headers: retryAfter } : {}),
        content: { 'application/json': { schema: errorBodySchema } },
      },
    ]),
  );
}

function json<S extends z.ZodType>(description: string, schema: S) {
  return { description, content: { 'application/json': { schema } } };
}

const sessionPath = { path: sessionIdParamSchema };
const deadLetterPath = { path: deadLetterIdParamSchema };
const withAuth = { security: [{ bearerAuth: [] }] };

function op(operation: ZodOpenApiOperationObject): ZodOpenApiOperationObject {
  return { ...withAuth, ...operation };
}

/** The OpenAPI 3.1 document of the whole session-api, from the same zod schemas that validate requests. */
export function buildOpenApiDocument(): OpenApiDocument {
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'Chat session API',
      version: '1.0.0',
      description: 'Sessions, members, posted messages and history. Every error body is `{"error":{"code","message"}}`.',
    },
    components: {
      // Not referenced by a path (metadata is free-form JSON), but part of the contract: the result card schema.
      schemas: { AnalysisResult: analysisResultSchema },
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths: {
      [toOpenApiPath(ROUTES.sessions)]: {
        get: op({
          operationId: 'listSessions',
          summary:
            "The caller's open sessions, newest activity first, each with its last stored message, the caller's read cursor and unread count (others' messages after it, up to 1000) and the analysis status. Admins see every open session; `analysisId` finds the session(s) of an analysis. Page on with `cursor` = the previous `nextCursor`.",
          requestParams: { query: listSessionsQuerySchema },
          responses: { '200': json('A page of sessions.', sessionListSchema), ...errors(400, 401, 503) },
        }),
        post: op({
          operationId: 'createSession',
          summary: 'Create a session; a non-admin caller is always one of its members.',
          requestBody: { required: true, content: { 'application/json': { schema: createSessionBodySchema } } },
          responses: { '201': json('The new session.', sessionSchema), ...errors(400, 401, 413, 503) },
        }),
      },
      [toOpenApiPath(ROUTES.session)]: {
        get: op({
          operationId: 'getSession',
          summary: 'Read a session (members and admins).',
          requestParams: sessionPath,
          responses: { '200': json('The session.', sessionSchema), ...errors(400, 401, 403, 404, 503) },
        }),
        patch: op({
          operationId: 'updateSession',
          summary: 'Change the title and/or metadata (admins, or members holding the chat:members scope); a field left out stays, a null title clears it.',
          requestParams: sessionPath,
          requestBody: { required: true, content: { 'application/json': { schema: updateSessionBodySchema } } },
          responses: { '200': json('The updated session.', sessionSchema), ...errors(400, 401, 403, 404, 413, 503) },
        }),
        delete: op({
          operationId: 'closeSession',
          summary: 'Close a session (admins only): open sockets get `session_closed` then 4404; messages stay readable by admins.',
          requestParams: sessionPath,
          responses: { '204': { description: 'Closed.' }, ...errors(400, 401, 403, 404, 503) },
        }),
      },
      [toOpenApiPath(ROUTES.members)]: {
        post: op({
          operationId: 'addMembers',
          summary: 'Add members (admins, or members adding others).',
          requestParams: sessionPath,
          requestBody: { required: true, content: { 'application/json': { schema: addMembersBodySchema } } },
          responses: { '200': json('The session with its members.', sessionSchema), ...errors(400, 401, 403, 404, 413, 503) },
        }),
      },
      [toOpenApiPath(ROUTES.member)]: {
        delete: op({
          operationId: 'removeMember',
          summary:
            'Remove a member: any member may remove itself; removing another takes an admin token or the chat:members scope. The user\'s open chat and status sockets on every replica close with 4403 within a second; history and posting refuse them afterwards. Idempotent: removing a non-member changes nothing and answers the session.',
          requestParams: { path: memberParamSchema },
          responses: { '200': json('The session without the member.', sessionSchema), ...errors(400, 401, 403, 404, 503) },
        }),
      },
      [toOpenApiPath(ROUTES.messages)]: {
        post: op({
          operationId: 'postMessage',
          summary: 'Post a message; connected clients receive it live. A repeated clientMsgId returns the first message.',
          requestParams: sessionPath,
          requestBody: { required: true, content: { 'application/json': { schema: postMessageBodySchema } } },
          responses: { '201': json('The stored message.', chatMessageSchema), ...errors(400, 401, 403, 404, 413, 429, 503) },
        }),
      },
      [toOpenApiPath(ROUTES.analysisStatus)]: {
        put: op({
          operationId: 'reportAnalysisStatus',
          summary:
            "Admins only (the analysis backend): the state of the session's analysis. Stored, sent live to the session's status sockets as `analysis_status`, and sent to every status socket on open.",
          requestParams: sessionPath,
          requestBody: { required: true, content: { 'application/json': { schema: analysisStatusBodySchema } } },
          responses: { '200': json('The status as stored.', analysisStatusSchema), ...errors(400, 401, 403, 404, 503) },
        }),
      },
      [toOpenApiPath(ROUTES.history)]: {
        get: op({
          operationId: 'getHistory',
          summary: 'A page of messages in ascending seq: the latest, before a seq, or after a seq.',
          requestParams: { ...sessionPath, query: historyQuerySchema },
          responses: { '200': json('The page, and whether more exist beyond it in that direction.', historyResponseSchema), ...errors(400, 401, 403, 404, 503) },
        }),
      },
      [toOpenApiPath(ROUTES.search)]: {
        get: op({
          operationId: 'searchMessages',
          summary:
            'Full-text search of the session\'s stored messages (members; admins also in closed sessions), newest first. `q` is read as web-search text ("a phrase", or, -excluded); words match case-insensitively, unstemmed. Each hit carries highlight ranges into its body (UTF-16 offsets, no markup). Messages still in the queue, not yet in the store, are not found until they are written.',
          requestParams: { ...sessionPath, query: searchQuerySchema },
          responses: { '200': json('Hits, newest first, and where the next (older) page starts.', searchResponseSchema), ...errors(400, 401, 403, 404, 503) },
        }),
      },
      [toOpenApiPath(ROUTES.people)]: {
        get: op({
          operationId: 'findPeople',
          summary:
            'People by name, for picking members: names that start with `q` first, then names that contain it (case-insensitive); an empty `q` lists people by name. Any signed-in user may ask; only ids and names are given. The people come from the tokens the system has seen (their `name` claim) and, when PEOPLE_LOOKUP_URL is set, from the finance backend\'s lookup first.',
          requestParams: { query: peopleQuerySchema },
          responses: { '200': json('Up to `limit` people.', peopleListSchema), ...errors(400, 401, 503) },
        }),
      },
      [toOpenApiPath(ROUTES.deadLetters)]: {
        get: op({
          operationId: 'listDeadLetters',
          summary: 'Admins only: messages the persister could not write, newest first; open ones unless includeReplayed=true.',
          requestParams: { query: deadLetterListQuerySchema },
          responses: { '200': json('The dead letters (without their payloads).', deadLetterListSchema), ...errors(400, 401, 403, 503) },
        }),
      },
      [toOpenApiPath(ROUTES.deadLetter)]: {
        get: op({
          operationId: 'getDeadLetter',
          summary: 'Admins only: one dead letter with its raw payload and the message it holds.',
          requestParams: deadLetterPath,
          responses: { '200': json('The dead letter.', deadLetterDetailSchema), ...errors(400, 401, 403, 404, 503) },
        }),
      },
      [toOpenApiPath(ROUTES.deadLetterReplay)]: {
        post: op({
          operationId: 'replayDeadLetter',
          summary:
            'Admins only: writes the message to chat_messages once (ON CONFLICT DO NOTHING) and marks the dead letter replayed, in one transaction. Repeating it writes nothing more. No body.',
          requestParams: deadLetterPath,
          requestBody: { required: false, content: { 'application/json': { schema: z.object({}).meta({ description: 'Empty; nothing is read.' }) } } },
          responses: { '200': json('The message is in chat_messages.', replayResultSchema), ...errors(400, 401, 403, 404, 409, 503) },
        }),
      },
      [ROUTES.chatSwitch]: {
        post: op({
          operationId: 'setChatSwitch',
          summary: 'The kill switch (scope chat:admin): turn chat off or on for every replica. While off, sockets close with 4503 and writes get 503 chat_disabled; history stays readable.',
          requestBody: { required: true, content: { 'application/json': { schema: setChatSwitchBodySchema } } },
          responses: { '200': json('The switch as every replica will see it within CHAT_SWITCH_POLL_MS.', chatStatusSchema), ...errors(400, 401, 403, 409, 503) },
        }),
      },
      [ROUTES.status]: {
        get: {
          operationId: 'chatStatus',
          summary: 'Whether chat is on. No token needed: clients poll it after a 4503 close, and embedding pages hide the chat while it says off.',
          security: [],
          responses: { '200': json('The kill switch.', chatStatusSchema) },
        },
      },
      [ROUTES.healthz]: {
        get: {
          operationId: 'healthz',
          summary: 'Liveness.',
          security: [],
          responses: { '200': json('The process is up.', z.object({ status: z.literal('ok') })) },
        },
      },
      [ROUTES.readyz]: {
        get: {
          operationId: 'readyz',
          summary: 'Readiness: every dependency answers and the process is not draining.',
          security: [],
          responses: { '200': json('Ready.', readinessSchema), '503': json('Not ready.', readinessSchema) },
        },
      },
      [ROUTES.metrics]: {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics.',
          security: [],
          responses: { '200': { description: 'Prometheus text exposition.', content: { 'text/plain': { schema: z.string() } } } },
        },
      },
      [ROUTES.openapi]: {
        get: {
          operationId: 'openapi',
          summary: 'This document.',
          security: [],
          responses: { '200': json('The OpenAPI 3.1 document.', z.record(z.string(), z.unknown())) },
        },
      },
    },
  });
}
