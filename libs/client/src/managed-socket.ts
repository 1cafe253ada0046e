import { CLOSE_CODES, closeCodeMeaning, drainHintOf, shouldReconnect } from '@chat/protocol';
import type { ConnectionState } from './connection-state.ts';
import type { ReconnectPolicy } from './reconnect-policy.ts';
import { OPEN, type WebSocketConstructor, type WebSocketLike } from './socket.ts';

export interface ManagedSocketOptions {
  /**
   * Built anew for every attempt, so a resume cursor can change between attempts. `replica` picks
   * one of `replicas` gateway addresses: the socket moves to the next after a drain close, an
   * attempt that never opened, or a heartbeat that went unanswered.
   */
  url: (replica: number) => string;
  /** How many gateway addresses `url` knows; 1 (the default) is one address, e.g. a load balancer. */
  replicas?: number;
  WebSocket: WebSocketConstructor;
  policy: ReconnectPolicy;
  onText: (text: string) => void;
  onState: (state: ConnectionState) => void;
  /** Sends `frame` every `intervalMs`; a silent interval after it means the link is dead. */
  heartbeat?: { intervalMs: number; frame: string };
  /** A connection that stayed open this long resets the backoff. */
  stableAfterMs?: number;
  now?: () => number;
  /**
   * After a 4503 (chat turned off) the socket waits, calling this every `disabledPollMs`
   * (default 30 s), and reconnects once it resolves true. Without it a 4503 is final.
   */
  isChatOn?: () => Promise<boolean>;
  disabledPollMs?: number;
  /**
   * After a 4401 (token expired or refused) this is called once; when it resolves true (a fresh
   * token is in place for `url()`), the socket reconnects at once and resumes. Without it, or
   * when it resolves false, or on a second 4401 before the server admitted the socket, 4401 is final.
   */
  renewToken?: () => Promise<boolean>;
  /** Uniform in [0, 1); the drain jitter draws from it. */
  random?: () => number;
}

/** Up to this share of a drain hint (and at most DRAIN_JITTER_MAX_MS) is added at random, so clients told the same moment still spread. */
const DRAIN_JITTER_SHARE = 0.1;
const DRAIN_JITTER_MAX_MS = 1_000;

/** The wait a drain hint asks for, with jitter: uniform in [hint, hint + min(10 % of hint, 1 s)]. */
export function drainWaitMs(hintMs: number, random: () => number = Math.random): number {
  return Math.round(hintMs + random() * Math.min(DRAIN_JITTER_MAX_MS, hintMs * DRAIN_JITTER_SHARE));
}

const CLIENT_CLOSE = 1000;
const HEARTBEAT_TIMEOUT = 4000;
const ABNORMAL = 1006;

/** One WebSocket route kept open: reconnects with backoff until a final close or `stop()`. */
export class ManagedSocket {
  readonly #options: ManagedSocketOptions;
  readonly #now: () => number;
  #ws: WebSocketLike | undefined;
  #state: ConnectionState = { status: 'idle' };
  #timer: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #heardSincePing = true;
  #openedAt = 0;
  /** The last socket was given up because its heartbeat went unanswered. */
  #linkLost = false;
  #stopped = false;
  #offline = false;
  #attempt = 0;
  #everOpened = false;
  #replica = 0;
  /** A fresh token was fetched after a 4401 and the server has not admitted a socket with it yet. */
  #renewedSinceAdmitted = false;

  constructor(options: ManagedSocketOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  start(): void {
    this.#stopped = false;
    if (this.#offline) return this.#setState({ status: 'offline' });
    this.#connect();
  }

  /** Closes for good; no reconnect follows. */
  stop(code = CLIENT_CLOSE): void {
    this.#stopped = true;
    this.#clearTimer();
    this.#detach()?.close(CLIENT_CLOSE);
    this.#setState({ status: 'closed', code, reason: '', meaning: closeCodeMeaning(code) });
  }

  send(text: string): boolean {
    if (this.#ws?.readyState !== OPEN || this.#state.status !== 'open') return false;
    this.#ws.send(text);
    return true;
  }

  goOffline(): void {
    this.#offline = true;
    if (this.#stopped) return;
    this.#clearTimer();
    this.#detach()?.close(CLIENT_CLOSE);
    this.#setState({ status: 'offline' });
  }

  goOnline(): void {
    this.#offline = false;
    if (this.#stopped || this.#state.status === 'open' || this.#state.status === 'connecting') return;
    this.#options.policy.reset();
    this.#connect();
  }

  /** Skips the rest of a backoff wait, e.g. when the page becomes visible again. */
  retryNow(): void {
    if (this.#state.status !== 'reconnecting') return;
    this.#connect();
  }

  #connect(): void {
    this.#clearTimer();
    this.#attempt += 1;
    this.#setState({ status: 'connecting', attempt: this.#attempt, resuming: this.#everOpened || this.#attempt > 1 });
    let ws: WebSocketLike;
    try {
      ws = new this.#options.WebSocket(this.#options.url(this.#replica));
    } catch {
      this.#closed(ABNORMAL);
      return;
    }
    this.#ws = ws;
    ws.onopen = () => {
      if (ws !== this.#ws) return;
      this.#openedAt = this.#now();
      this.#everOpened = true;
      this.#attempt = 0;
      this.#startHeartbeat();
      this.#setState({ status: 'open' });
    };
    ws.onmessage = (event) => {
      if (ws !== this.#ws) return;
      this.#heardSincePing = true;
      // A frame from the server means it admitted this socket (a refusal is a bare close).
      this.#renewedSinceAdmitted = false;
      // Every frame of the protocol is text; binary frames are not part of it.
      if (typeof event.data === 'string') this.#options.onText(event.data);
    };
    ws.onclose = (event) => {
      if (ws !== this.#ws) return;
      this.#ws = undefined;
      this.#closed(event.code, event.reason);
    };
    ws.onerror = () => {
      // A close event always follows; it carries the code that decides what to do.
    };
  }

  /** Polls slowly (a whole fleet of clients does this) and reconnects with a fresh backoff once chat is on. */
  #waitUntilChatOn(): void {
    const pollMs = this.#options.disabledPollMs ?? 30_000;
    const check = () => {
      this.#timer = undefined;
      void (this.#options.isChatOn?.() ?? Promise.resolve(false)).then(
        (on) => this.#afterCheck(on),
        () => this.#afterCheck(false),
      );
    };
    this.#timer = setTimeout(check, pollMs);
    this.#setState({ status: 'disabled', nextCheckAt: this.#now() + pollMs });
  }

  #afterCheck(on: boolean): void {
    if (this.#stopped || this.#state.status !== 'disabled') return;
    if (!on) return this.#waitUntilChatOn();
    this.#options.policy.reset();
    this.#connect();
  }

  #closed(code: number, reason = ''): void {
    this.#stopHeartbeat();
    if (this.#stopped) return;
    if (this.#offline) return this.#setState({ status: 'offline' });
    if (code === CLOSE_CODES.chatDisabled && this.#options.isChatOn !== undefined) return this.#waitUntilChatOn();
    if (code === CLOSE_CODES.badToken && this.#options.renewToken !== undefined && !this.#renewedSinceAdmitted) return this.#renewAndReconnect(code, reason);
    if (!shouldReconnect(code)) {
      this.#stopped = true;
      return this.#setState({ status: 'closed', code, reason, meaning: closeCodeMeaning(code, reason) });
    }
    const neverOpened = this.#openedAt === 0;
    const linkLost = this.#linkLost;
    this.#linkLost = false;
    const wasStable = !neverOpened && this.#now() - this.#openedAt >= (this.#options.stableAfterMs ?? 5_000);
    if (wasStable) this.#options.policy.reset();
    this.#openedAt = 0;
    const hint = code === CLOSE_CODES.goingAway ? drainHintOf(reason) : undefined;
    // A draining replica is going away, and one that refused us may be too: try the next address.
    if (hint !== undefined || neverOpened || linkLost) this.#replica = (this.#replica + 1) % Math.max(1, this.#options.replicas ?? 1);
    if (hint !== undefined) return this.#reconnectAfterDrain(code, hint);
    const step = this.#options.policy.next();
    this.#scheduleReconnect(code, step.attempt, step.delayMs);
  }

  /** The server said when to come back: wait that long (plus a little jitter), then start a fresh backoff. */
  #reconnectAfterDrain(code: number, hintMs: number): void {
    this.#options.policy.reset();
    this.#scheduleReconnect(code, 1, drainWaitMs(hintMs, this.#options.random));
  }

  #scheduleReconnect(code: number, attempt: number, delayMs: number): void {
    this.#timer = setTimeout(() => this.#connect(), delayMs);
    this.#setState({
      status: 'reconnecting',
      attempt,
      nextAttemptAt: this.#now() + delayMs,
      lastCloseCode: code,
      lastCloseMeaning: closeCodeMeaning(code),
    });
  }

  #renewAndReconnect(code: number, reason: string): void {
    this.#renewedSinceAdmitted = true;
    this.#setState({ status: 'reconnecting', attempt: 1, nextAttemptAt: this.#now(), lastCloseCode: code, lastCloseMeaning: closeCodeMeaning(code) });
    const renew = this.#options.renewToken ?? (() => Promise.resolve(false));
    void renew().then(
      (renewed) => this.#afterRenew(renewed, code, reason),
      () => this.#afterRenew(false, code, reason),
    );
  }

  #afterRenew(renewed: boolean, code: number, reason: string): void {
    if (this.#stopped || this.#state.status !== 'reconnecting') return;
    if (!renewed) {
      this.#stopped = true;
      return this.#setState({ status: 'closed', code, reason, meaning: closeCodeMeaning(code, reason) });
    }
    this.#options.policy.reset();
    this.#connect();
  }

  #startHeartbeat(): void {
    const heartbeat = this.#options.heartbeat;
    if (!heartbeat) return;
    this.#heardSincePing = true;
    this.#heartbeat = setInterval(() => {
      if (!this.#heardSincePing) {
        // A half-open link may never deliver a close event, so give up on it at once.
        this.#detach()?.close(HEARTBEAT_TIMEOUT, 'heartbeat timeout');
        // The link to this replica is gone, perhaps its host with it: the next address may answer.
        this.#linkLost = true;
        this.#closed(ABNORMAL);
        return;
      }
      this.#heardSincePing = false;
      this.send(heartbeat.frame);
    }, heartbeat.intervalMs);
  }

  #stopHeartbeat(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  #detach(): WebSocketLike | undefined {
    const ws = this.#ws;
    this.#ws = undefined;
    this.#stopHeartbeat();
    if (ws) {
      ws.onopen = null;
      ws.onmessage = null;
      ws.onclose = null;
      ws.onerror = () => undefined;
    }
    return ws;
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #setState(state: ConnectionState): void {
    this.#state = state;
    this.#options.onState(state);
  }
}
