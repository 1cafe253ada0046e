import { randomUUID } from 'node:crypto';
import { signToken } from '@chat/auth';
import { ChatClient, ChatClientError, type WebSocketConstructor } from '@chat/client';
import type { AckFrame } from '@chat/protocol';
import { WebSocket } from 'ws';
import { sleep, waitFor } from './managed-process.ts';

/** One send the suite made, over a WebSocket or REST, and what became of it. */
export interface SendRecord {
  clientMsgId: string;
  sessionId: string;
  userId: string;
  via: 'ws' | 'rest';
  /** The fault (by index) during whose traffic window the send was made. */
  phase: number;
  attempts: number;
  ack?: { id: string; seq: number };
  /** The gateway answered `unavailable` to an attempt (the outcome unknown then); the SDK settled it later. */
  answeredUnavailable?: boolean;
  lastError?: string;
}

/** What the checks read of one client: plain data, so it can come from another process. */
export interface MemberState {
  readonly userId: string;
  readonly sessionId: string;
  readonly gateway: number;
  /** The session head at the first welcome: the view starts after it. */
  welcomeHead: number | undefined;
  /** Times the chat socket went from open to anything else. */
  disconnects: number;
  /** Chat closes with 1001 (a drain), and connection attempts after the first open. */
  drainCloses: number;
  reconnects: number;
  /** Closes that sent the client back other than a drain's, by close code: why a client needed more attempts. */
  otherCloses: Record<number, number>;
  /**
   * How each of its sockets ended, by gateway and what was seen (e.g. `gateway-b: refused ECONNREFUSED`,
   * `gateway-a: 1006 before welcome`): what a close code alone cannot tell apart.
   */
  socketEnds: Record<string, number>;
  /** A close the SDK treats as final; a resuming client never has one. */
  finalClose: number | undefined;
  isOpen: boolean;
}

export interface FleetMember extends MemberState {
  readonly client: ChatClient;
}

/** A member without its client, as plain data. */
export function memberState(member: FleetMember): MemberState {
  const { client: _client, ...state } = member;
  return { ...state, otherCloses: { ...state.otherCloses }, socketEnds: { ...state.socketEnds } };
}

export interface FleetOptions {
  apiUrl: string;
  /** ws:// bases of the gateways; members are spread over them in turn. */
  gatewayUrls: readonly string[];
  secret: string;
  sessions: number;
  membersPerSession: number;
  /** Source addresses to spread connections over (127.0.0.x), for many connections. */
  localAddresses?: readonly string[];
  /** Share of sends that go over REST as the finance backend (0..1). */
  restShare?: number;
  /** The SDK's heartbeat interval (its default when omitted): a link silent past it is given up. */
  heartbeatMs?: number;
}

const TOKEN_TTL_SECONDS = 6 * 60 * 60;
const RETRY_DELAY_MS = 500;

/**
 * The suite's clients: members of a few sessions on the SDK, spread over the gateways, plus the
 * finance backend posting over REST. It records every send and its ack, and retries a send that
 * failed with the same clientMsgId, as a careful application does.
 */
export class Fleet {
  readonly members: FleetMember[] = [];
  readonly sends = new Map<string, SendRecord>();
  readonly sessionIds: string[] = [];
  readonly #options: FleetOptions;
  #adminToken = '';
  #adminId = randomUUID();
  #timer: NodeJS.Timeout | undefined;
  #phase = 0;
  #inFlight = new Set<Promise<unknown>>();
  readonly #unsettled = new Set<string>();
  #closed = false;

  private constructor(options: FleetOptions) {
    this.#options = options;
  }

  static async open(options: FleetOptions): Promise<Fleet> {
    const fleet = new Fleet(options);
    await fleet.#open();
    return fleet;
  }

  get adminToken(): string {
    return this.#adminToken;
  }

  async #open(): Promise<void> {
    const { secret, sessions, membersPerSession, gatewayUrls, localAddresses } = this.#options;
    this.#adminToken = await signToken(secret, { userId: this.#adminId, admin: true, name: 'finance-backend', ttlSeconds: TOKEN_TTL_SECONDS });
    let index = 0;
    for (let s = 0; s < sessions; s++) {
      const userIds = Array.from({ length: membersPerSession }, () => randomUUID());
      const session = await this.#post<{ id: string }>('/api/chat/sessions', { title: `faults ${s}`, members: userIds });
      this.sessionIds.push(session.id);
      for (const userId of userIds) {
        const gateway = index % gatewayUrls.length;
        // Its own gateway first, then the others: the SDK moves on after a drain or a refused attempt.
        const wsUrls = gatewayUrls.map((_, i) => gatewayUrls[(gateway + i) % gatewayUrls.length] ?? '');
        const localAddress = localAddresses?.[index % localAddresses.length];
        index++;
        const token = await signToken(secret, { userId, name: `user-${userId.slice(0, 6)}`, ttlSeconds: TOKEN_TTL_SECONDS });
        const socketEnds: Record<string, number> = {};
        const client = new ChatClient({
          sessionId: session.id,
          token,
          wsUrl: wsUrls,
          apiUrl: this.#options.apiUrl,
          WebSocket: observedWebSocket(localAddress, gatewayUrls, (end) => {
            socketEnds[end] = (socketEnds[end] ?? 0) + 1;
          }),
          environment: null,
          status: false,
          backoff: { initialDelayMs: 200, maxDelayMs: 3_000 },
          ...(this.#options.heartbeatMs === undefined ? {} : { heartbeatMs: this.#options.heartbeatMs }),
        });
        this.members.push(this.#track(client, userId, session.id, gateway, socketEnds));
      }
    }
    for (const member of this.members) member.client.connect();
    await waitFor('every client connected', () => this.allOpen(), 120_000, 100);
  }

  #track(client: ChatClient, userId: string, sessionId: string, gateway: number, socketEnds: Record<string, number>): FleetMember {
    const member: FleetMember = { client, userId, sessionId, gateway, welcomeHead: undefined, disconnects: 0, drainCloses: 0, reconnects: 0, otherCloses: {}, socketEnds, finalClose: undefined, isOpen: false };
    client.on('welcome', (frame) => {
      member.welcomeHead ??= frame.seq;
      member.isOpen = true;
    });
    client.on('error', (frame) => {
      const record = frame.clientMsgId === undefined ? undefined : this.sends.get(frame.clientMsgId);
      if (record && frame.code === 'unavailable') record.answeredUnavailable = true;
    });
    client.on('state', (state) => {
      if (state.status === 'connecting' && state.resuming) member.reconnects++;
      if (state.status === 'reconnecting' && state.lastCloseCode === 1001) member.drainCloses++;
      else if (state.status === 'reconnecting') member.otherCloses[state.lastCloseCode] = (member.otherCloses[state.lastCloseCode] ?? 0) + 1;
      if (state.status === 'open') return;
      if (member.isOpen) member.disconnects++;
      member.isOpen = false;
      if (state.status === 'closed') member.finalClose = state.code;
    });
    return member;
  }

  /** Every member's chat socket is open and welcomed. */
  allOpen(): boolean {
    return this.members.every((member) => member.isOpen);
  }

  /** Sends `perSecond` messages in all, spread over random members, a share of them over REST. */
  startTraffic(phase: number, perSecond: number): void {
    this.stopTraffic();
    this.#phase = phase;
    const tickMs = 50;
    let due = 0;
    this.#timer = setInterval(() => {
      due += (perSecond * tickMs) / 1000;
      for (; due >= 1; due--) {
        if (Math.random() < (this.#options.restShare ?? 0.1)) this.#track$(this.#sendRest(this.#randomSession()));
        else this.#track$(this.#sendWs(this.#randomMember()));
      }
    }, tickMs);
  }

  stopTraffic(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One REST post per session, so a client that missed the last fan-out learns the head and repairs. */
  async checkpoint(phase: number): Promise<void> {
    this.#phase = phase;
    await Promise.all(this.sessionIds.map((sessionId) => this.#sendRest(sessionId)));
  }

  /** Waits until every send (of `phase`, when given) is acked (retried meanwhile) or `timeoutMs` passes. */
  async settle(timeoutMs: number, phase?: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    const busy = () => (phase === undefined ? this.#inFlight.size > 0 : this.unsettledIn(phase) > 0);
    while (busy() && performance.now() < deadline) await sleep(100);
  }

  get pending(): number {
    return this.#inFlight.size;
  }

  /** Sends of one phase still waiting for an ack. */
  unsettledIn(phase: number): number {
    return [...this.sends.values()].filter((record) => record.phase === phase && !record.ack && this.#unsettled.has(record.clientMsgId)).length;
  }

  /** Why the sends of `phase` still in flight have no ack (their last error, and whether their sender already sees them), with how many each. */
  pendingReasons(phase: number): Map<string, number> {
    const counts = new Map<string, number>();
    for (const record of this.sends.values()) {
      if (record.phase !== phase || record.ack || !this.#unsettled.has(record.clientMsgId)) continue;
      const member = this.members.find((m) => m.userId === record.userId && m.sessionId === record.sessionId);
      const inView = member?.client.store.getState().messages.some((m) => m.clientMsgId === record.clientMsgId) ?? false;
      const reason = `${record.via} ${record.lastError ?? 'no answer'}${inView ? ', in the sender\'s view' : ''}`;
      counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    return counts;
  }

  close(): void {
    this.#closed = true;
    this.stopTraffic();
    for (const member of this.members) member.client.close();
  }

  #randomMember(): FleetMember {
    return this.members[Math.floor(Math.random() * this.members.length)] as FleetMember;
  }

  #randomSession(): string {
    return this.sessionIds[Math.floor(Math.random() * this.sessionIds.length)] as string;
  }

  #track$(work: Promise<unknown>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #sendWs(member: FleetMember): Promise<void> {
    const { client } = member;
    const ack = client.send(`m${this.sends.size}`);
    const outgoing = client.store.getState().outgoing.at(-1);
    if (!outgoing) return;
    const record: SendRecord = { clientMsgId: outgoing.clientMsgId, sessionId: member.sessionId, userId: member.userId, via: 'ws', phase: this.#phase, attempts: 1 };
    this.sends.set(record.clientMsgId, record);
    this.#unsettled.add(record.clientMsgId);
    try {
      await this.#awaitAck(member, record, ack);
    } finally {
      this.#unsettled.delete(record.clientMsgId);
    }
  }

  async #awaitAck(member: FleetMember, record: SendRecord, first: Promise<AckFrame>): Promise<void> {
    const { client } = member;
    let ack = first;
    for (;;) {
      try {
        // The SDK settles every send: with the ack, or with the stored copy it received itself.
        const frame = await ack;
        record.ack = { id: frame.id, seq: frame.seq };
        return;
      } catch (error) {
        record.lastError = error instanceof ChatClientError ? error.code : String(error);
        // A final close or a closed session: nothing will carry a retry.
        if (this.#closed || member.finalClose !== undefined || record.lastError === 'not_found') return;
        await sleep(RETRY_DELAY_MS);
        record.attempts++;
        ack = client.retry(record.clientMsgId);
      }
    }
  }

  async #sendRest(sessionId: string): Promise<void> {
    const clientMsgId = randomUUID();
    const record: SendRecord = { clientMsgId, sessionId, userId: this.#adminId, via: 'rest', phase: this.#phase, attempts: 0 };
    this.sends.set(clientMsgId, record);
    this.#unsettled.add(clientMsgId);
    try {
      await this.#postUntilAcked(sessionId, record);
    } finally {
      this.#unsettled.delete(clientMsgId);
    }
  }

  async #postUntilAcked(sessionId: string, record: SendRecord): Promise<void> {
    const { clientMsgId } = record;
    while (!this.#closed) {
      record.attempts++;
      try {
        const response = await fetch(`${this.#options.apiUrl}/api/chat/sessions/${sessionId}/messages`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.#adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ body: `r${this.sends.size}`, clientMsgId }),
          signal: AbortSignal.timeout(10_000),
        });
        const body = (await response.json().catch(() => undefined)) as { id?: string; seq?: number; error?: { code: string } } | undefined;
        if (response.status === 201 && body?.id !== undefined && body.seq !== undefined) {
          record.ack = { id: body.id, seq: body.seq };
          return;
        }
        record.lastError = body?.error?.code ?? `http_${response.status}`;
        // Refusals that a retry cannot change end the send; outages and rate limits are retried.
        if (response.status < 500 && response.status !== 429 && response.status !== 408) return;
      } catch (error) {
        record.lastError = error instanceof Error ? error.name : String(error);
      }
      await sleep(RETRY_DELAY_MS);
    }
  }

  async #post<T>(path: string, body: unknown): Promise<T> {
    const response = await fetch(`${this.#options.apiUrl}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.#adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`POST ${path}: HTTP ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }
}

/**
 * `ws` (bound to one source address when given, so one machine can open more connections than one
 * address allows) that reports how each socket ended: refused before it opened, closed before
 * the welcome, or closed after it, with the code and the gateway (`gateway-a`, `gateway-b`, ...).
 */
function observedWebSocket(localAddress: string | undefined, gatewayUrls: readonly string[], ended: (end: string) => void): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string) {
      super(url, localAddress === undefined ? {} : { localAddress });
      const index = gatewayUrls.findIndex((base) => url.startsWith(base));
      const gateway = index < 0 ? 'gateway' : `gateway-${String.fromCharCode(97 + index)}`;
      let opened = false;
      let welcomed = false;
      let failure: string | undefined;
      this.on('open', () => (opened = true));
      this.on('error', (error: NodeJS.ErrnoException) => (failure ??= error.code ?? error.message.slice(0, 40)));
      this.on('message', (data) => {
        if (!welcomed && Buffer.isBuffer(data) && data.toString('utf8', 0, 17) === '{"type":"welcome"') welcomed = true;
      });
      this.on('close', (code: number) => {
        ended(`${gateway}: ${!opened ? `refused ${failure ?? code}` : `${code} ${welcomed ? 'after' : 'before'} welcome`}`);
      });
    }
  };
}
