import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import { TestClient, type Frame } from '@chat/gateway/testing';
import type { ChatMessage } from '@chat/protocol';
import { startStack, type Stack, type StackKind } from '../support/stack.ts';

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

/** What a test does with a running stack, in the words of the contract: sessions, sockets, REST, the store. */
export class Harness {
  #stack: Stack | undefined;
  readonly #clients: TestClient[] = [];

  constructor(stack?: Stack) {
    this.#stack = stack;
  }

  /**
   * The harness of one describe block: its stack starts before the block's tests and stops after
   * them, and each test's sockets are closed after it.
   */
  static forSuite(kind: StackKind): Harness {
    const harness = new Harness();
    beforeAll(async () => {
      harness.#stack = await startStack(kind);
    });
    afterEach(() => harness.closeAll());
    afterAll(async () => {
      await harness.#stack?.stop();
    });
    return harness;
  }

  get stack(): Stack {
    if (this.#stack === undefined) throw new Error('the stack starts before the tests: use the harness inside a test or a hook');
    return this.#stack;
  }

  /** A WebSocket URL on replica 0 or 1. */
  wsUrl(replica: number, path: string): string {
    const base = this.stack.gatewayUrls[replica];
    if (base === undefined) throw new Error(`no replica ${replica}`);
    return `${base.replace(/^http/, 'ws')}${path}`;
  }

  /** Opens a socket without waiting for anything; closed by closeAll(). */
  open(replica: number, path: string, headers?: Record<string, string>): TestClient {
    const client = new TestClient(this.wsUrl(replica, path), headers === undefined ? {} : { headers });
    this.#clients.push(client);
    return client;
  }

  /** A member's chat socket, once welcomed. */
  async chat(replica: number, sessionId: string, userId: string, options: { lastSeq?: number } = {}): Promise<TestClient> {
    const query = options.lastSeq === undefined ? '' : `&lastSeq=${options.lastSeq}`;
    const client = this.open(replica, `/ws/chat/${sessionId}?token=${await this.stack.token(userId)}${query}`);
    await client.nextOfType('welcome');
    return client;
  }

  async api<T = { error: { code: string; message: string } }>(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.stack.apiUrl}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
  }

  /**
   * Creates a session through the REST API, as the finance backend (an admin) would. Each call
   * signs in as an admin of its own, so the suite's many sessions stay within the per-user
   * session-creation limit, which stays on.
   */
  async createSession(members: readonly string[]): Promise<string> {
    // An admin of its own per session: a per-user limit on creating sessions never sees the suite as one busy user.
    const answer = await this.api<{ id: string }>('POST', '/api/chat/sessions', { token: await this.stack.token(randomUUID(), { admin: true }), body: { title: 'contract', members } });
    if (answer.status !== 201) throw new Error(`creating a session answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    return answer.body.id;
  }

  async adminToken(): Promise<string> {
    return this.stack.token(adminId, { admin: true });
  }

  /** Waits until the store holds at least `count` messages of the session; returns them all, in seq order. */
  async persisted(sessionId: string, count: number, timeoutMs = 10_000): Promise<ChatMessage[]> {
    return this.#persistedWhen(sessionId, (messages) => messages.length >= count, `${String(count)} messages`, timeoutMs);
  }

  /**
   * Waits until the store holds every one of `ids`; returns all the session's messages, in seq order.
   * Where a send was refused and sent again, a gap record sealing its first seq is a row too, so a
   * count of rows can be reached before the resend is stored.
   */
  async persistedIds(sessionId: string, ids: readonly string[], timeoutMs = 10_000): Promise<ChatMessage[]> {
    return this.#persistedWhen(sessionId, (messages) => ids.every((id) => messages.some((message) => message.id === id)), `the ${String(ids.length)} messages asked for`, timeoutMs);
  }

  async #persistedWhen(sessionId: string, done: (messages: ChatMessage[]) => boolean, what: string, timeoutMs: number): Promise<ChatMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const page = await this.stack.store.history(sessionId, { limit: 500, after: 0 });
      if (done(page.messages)) return page.messages;
      if (Date.now() > deadline) throw new Error(`the store holds ${String(page.messages.length)} messages of ${sessionId}, not yet ${what}, after ${String(timeoutMs)} ms`);
      await sleep(50);
    }
  }

  closeAll(): void {
    for (const client of this.#clients.splice(0)) client.close();
  }
}

/** Fixed per run for the admin token tests ask for; sessions are created by admins of their own. */
const adminId = randomUUID();

export function seqs(frames: readonly Frame[]): unknown[] {
  return frames.map((frame) => frame['seq']);
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
