import {
  chatStatusSchema,
  createSessionBodySchema,
  errorBodySchema,
  historyResponseSchema,
  searchResponseSchema,
  peopleListSchema,
  sessionListSchema,
  sessionSchema,
  type ChatStatus,
  type CreateSessionBody,
  type HistoryResponse,
  type SearchResponse,
  type Person,
  type Session,
  type SessionList,
} from '@chat/protocol';
import type { z } from 'zod';
import { ChatClientError } from './errors.ts';

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
}>;

export interface HistoryQuery {
  limit?: number;
  before?: number;
  after?: number;
}

export interface ApiClientOptions {
  /** Base URL of the session-api, e.g. `http://localhost:8081`; empty for the page's own origin. */
  apiUrl: string;
  token: string;
  fetch?: FetchLike;
}

/** The session-api endpoints a chat client needs, with bodies checked against the protocol. */
export class ApiClient {
  readonly #base: string;
  #token: string;
  readonly #fetch: FetchLike;

  constructor(options: ApiClientOptions) {
    this.#base = options.apiUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#fetch = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
  }

  /** Uses a renewed token from now on. */
  setToken(token: string): void {
    this.#token = token;
  }

  history(sessionId: string, query: HistoryQuery = {}): Promise<HistoryResponse> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const suffix = params.size > 0 ? `?${params.toString()}` : '';
    return this.#request('GET', `/api/chat/history/${encodeURIComponent(sessionId)}${suffix}`, historyResponseSchema);
  }

  /** `GET …/search`: the session's stored messages holding the words of `q`, newest first. */
  search(sessionId: string, q: string, query: { limit?: number; before?: number } = {}): Promise<SearchResponse> {
    const params = new URLSearchParams({ q });
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.before !== undefined) params.set('before', String(query.before));
    return this.#request('GET', `/api/chat/sessions/${encodeURIComponent(sessionId)}/search?${params.toString()}`, searchResponseSchema);
  }

  createSession(body: CreateSessionBody = {}): Promise<Session> {
    return this.#request('POST', '/api/chat/sessions', sessionSchema, createSessionBodySchema.parse(body));
  }

  /** `GET /api/chat/sessions`: the caller's sessions, newest activity first, with unread counts. */
  listSessions(query: { limit?: number; cursor?: string; analysisId?: string } = {}): Promise<SessionList> {
    const params = new URLSearchParams();
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.cursor !== undefined) params.set('cursor', query.cursor);
    if (query.analysisId !== undefined) params.set('analysisId', query.analysisId);
    const suffix = params.size > 0 ? `?${params.toString()}` : '';
    return this.#request('GET', `/api/chat/sessions${suffix}`, sessionListSchema);
  }

  /** `GET /api/chat/people`: people whose name starts with or contains `q`, for picking members. */
  async findPeople(q: string, limit?: number): Promise<Person[]> {
    const params = new URLSearchParams({ q });
    if (limit !== undefined) params.set('limit', String(limit));
    return (await this.#request('GET', `/api/chat/people?${params.toString()}`, peopleListSchema)).people;
  }

  /** `POST /api/chat/sessions/{id}/members`: adds people to a session the caller is a member of. */
  addMembers(sessionId: string, userIds: readonly string[]): Promise<Session> {
    return this.#request('POST', `/api/chat/sessions/${encodeURIComponent(sessionId)}/members`, sessionSchema, { userIds });
  }

  getSession(sessionId: string): Promise<Session> {
    return this.#request('GET', `/api/chat/sessions/${encodeURIComponent(sessionId)}`, sessionSchema);
  }

  /** `GET /status`, which needs no token: whether chat is turned on. */
  async chatStatus(): Promise<ChatStatus> {
    return this.#request('GET', '/status', chatStatusSchema);
  }

  async #request<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.infer<S>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Awaited<ReturnType<FetchLike>>;
    try {
      response = await this.#fetch(`${this.#base}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (cause) {
      throw new ChatClientError('unavailable', 'The chat service could not be reached.', { cause });
    }
    const json: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const parsed = errorBodySchema.safeParse(json);
      if (parsed.success) throw new ChatClientError(parsed.data.error.code, parsed.data.error.message);
      throw new ChatClientError('internal', `The server answered ${response.status}.`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new ChatClientError('internal', 'The server answered with an unexpected body.', { cause: parsed.error });
    return parsed.data;
  }
}
