import { randomUUID } from 'node:crypto';
import type { Principal, TokenVerifier } from '@chat/auth';
import { CLOSE_CODES, MEMBER_REMOVED_REASON, parseClientFrame, type ErrorCode, type JsonBounds } from '@chat/protocol';
import type { ChatMetrics, WsRoute } from '@chat/telemetry';
import type { Deadline, ExpirySweep } from './expiry-sweep.ts';
import type { GatewayLogger } from './gateway-logger.ts';
import { frameTypeLabels, routeLabels } from './metric-labels.ts';
import { InvalidFrameBudget, type RateGuard } from './rate-guard.ts';
import type { OutgoingFrame, Socket, SocketListener } from './socket.ts';

export interface ConnectionSettings {
  /** A send buffer past this many bytes closes the connection with 4408. */
  slowConsumerBytes: number;
  /** How long a closing handshake may take before the socket is dropped. */
  closeTimeoutMs: number;
  metrics: ChatMetrics;
  /** Malformed frames tolerated in a burst (refilled at one a second) before closing with 1008. */
  invalidFrameBurst: number;
  logger: GatewayLogger;
  /** Checks the token of an `auth` frame. */
  verifier: TokenVerifier;
  /** The gateway's one timer for token expiries, shared by all its connections. */
  expiries: ExpirySweep;
  /** Told once a connection has closed and cleaned up; one function for every connection, not a promise each. */
  onDone?: (connection: Connection) => void;
}

const SETTLED = Promise.resolve();

/** The close reason when a connection's token runs out. */
export const TOKEN_EXPIRED_REASON = 'token expired';

/**
 * What every socket of the gateway shares: writing with a send-buffer limit, closing, heartbeats.
 * The connection is its socket's listener itself, so an idle one holds no closure of its own.
 */
export abstract class Connection implements SocketListener {
  readonly id: string;
  protected readonly socket: Socket;
  protected readonly metrics: ChatMetrics;
  readonly route: WsRoute;
  /** Who the socket's token names; an `auth` frame may extend its expiry, never change the user. */
  protected readonly principal: Principal;
  readonly #settings: ConnectionSettings;
  #expiresAt: number | undefined;
  #expiry: Deadline | undefined;
  /** Made at the first malformed frame: most connections never send one. */
  #invalidFrames: InvalidFrameBudget | undefined;
  #alive = true;
  #closing = false;
  #closed = false;
  #closeCode: number | undefined;
  #terminateTimer: NodeJS.Timeout | undefined;
  #cleanedUp = false;
  /** Made when someone asks for `done` before the clean-up finished: most connections are never waited for. */
  #done: Promise<void> | undefined;
  #resolveDone: (() => void) | undefined;
  /** Settles at the welcome or the close, whichever comes first; then both are let go. */
  #welcome: Promise<void>;
  #resolveWelcome: (() => void) | undefined;

  /** `id` names the connection (its presence and connection-slot leases); a fresh one by default. */
  protected constructor(socket: Socket, principal: Principal, settings: ConnectionSettings, route: WsRoute, id: string = randomUUID()) {
    this.id = id;
    this.socket = socket;
    this.route = route;
    this.principal = principal;
    this.#settings = settings;
    this.metrics = settings.metrics;
    const labels = routeLabels(route);
    this.metrics.connects.add(1, labels);
    this.metrics.connectionsOpen.add(1, labels);
    this.#welcome = new Promise((resolve) => {
      this.#resolveWelcome = resolve;
    });
    socket.attach(this);
    this.#armExpiry(principal.expiresAt);
  }

  /** Whose socket it is. */
  get userId(): string {
    return this.principal.userId;
  }

  socketPong(): void {
    this.#alive = true;
  }

  socketClosed(code: number): void {
    void this.#onClose(code);
  }

  /**
   * Hands every frame to handleFrame so that nothing it throws, at once or later, leaves this
   * connection: a failure closes this socket with 1011 and the process carries on.
   */
  socketFrame(text: string, binary: boolean): void {
    try {
      const pending = this.handleFrame(text, binary);
      if (pending !== undefined) pending.catch((error: unknown) => this.fail(error));
    } catch (error) {
      this.fail(error);
    }
  }

  /** What the connection does with one incoming frame, once it listens; a promise is awaited for its failure. */
  protected abstract handleFrame(text: string, binary: boolean): void | Promise<void>;

  /** When the connection's rights end (ms since the epoch), if its token has an expiry. */
  get expiresAt(): number | undefined {
    return this.#expiresAt;
  }

  #armExpiry(expiresAt: number | undefined): void {
    this.#cancelExpiry();
    this.#expiresAt = expiresAt;
    if (expiresAt === undefined || this.closing) return;
    // The sweep fires from its timer, never from add(), so a subclass is fully built before expire() runs.
    this.#expiry = this.#settings.expiries.add(expiresAt, this);
  }

  /** The token's deadline in the gateway's expiry sweep has passed. */
  deadlinePassed(): void {
    this.#expiry = undefined;
    this.expire();
  }

  #cancelExpiry(): void {
    if (this.#expiry === undefined) return;
    this.#settings.expiries.cancel(this.#expiry);
    this.#expiry = undefined;
  }

  /** The token ran out with no fresh one sent: the connection's rights end now (4401). */
  protected expire(): void {
    this.end(CLOSE_CODES.badToken, TOKEN_EXPIRED_REASON);
  }

  /**
   * An `auth` frame: a valid token for the same user moves the expiry to the new token's and is
   * answered `authenticated`. An invalid one is answered `unauthorized` and changes nothing (the
   * current token still holds until it expires). A token for another user is answered `forbidden`
   * and closes the socket with 4403: a socket never changes whose it is.
   */
  protected async renew(token: string): Promise<void> {
    let fresh: Principal;
    try {
      fresh = await this.#settings.verifier(token);
    } catch (error) {
      const why = error instanceof Error ? error.message : 'The token is not valid.';
      this.writeError('unauthorized', `The new token was refused: ${why} The current one still holds until it expires.`);
      return;
    }
    if (this.closing) return;
    if (fresh.userId !== this.principal.userId) {
      this.writeError('forbidden', 'The new token names another user; a connection cannot change its user.');
      this.end(CLOSE_CODES.forbidden, 'token for another user');
      return;
    }
    this.#armExpiry(fresh.expiresAt);
    const expiresAt = fresh.expiresAt === undefined ? {} : { expiresAt: new Date(fresh.expiresAt).toISOString() };
    this.write(JSON.stringify({ type: 'authenticated', ...expiresAt }), 'authenticated');
  }

  /** Settles once the socket is closed and the connection has cleaned up after itself. */
  get done(): Promise<void> {
    if (this.#cleanedUp) return SETTLED;
    this.#done ??= new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    return this.#done;
  }

  /**
   * Settles once the first frame (welcome or presence) is written, or the connection closed before it.
   * One promise resolved from both ends, not a race with #done, which would leave a reaction on
   * #done for the connection's life.
   */
  get welcome(): Promise<void> {
    return this.#welcome;
  }

  /** Called by a subclass once its first frame is written. */
  protected welcomed(): void {
    this.#resolveWelcome?.();
    this.#resolveWelcome = undefined;
    this.#welcome = SETTLED;
  }

  /** The code the socket closed with, once closed. */
  get closeCode(): number | undefined {
    return this.#closeCode;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** True from the moment the connection starts closing; nothing more is written after that. */
  get closing(): boolean {
    return this.#closing || this.#closed;
  }

  /**
   * Writes a frame, and cuts off a peer whose send buffer has grown past the limit. `type` counts
   * the frame; fanned-out messages are counted once per batch of recipients instead.
   */
  /**
   * For the routes that take no frames of their own (status, feed): a ping is answered, `auth`
   * renews the token, anything else is refused; all within the route's frame rate.
   */
  protected answerControlFrame(guard: RateGuard, text: string, binary: boolean, limits: { maxMessageChars: number; jsonBounds: JsonBounds }): Promise<void> | undefined {
    const verdict = guard.take();
    if (verdict !== 'ok') this.metrics.rateLimitHits.add(1, { transport: 'ws' });
    if (verdict === 'exceeded') {
      this.end(CLOSE_CODES.rateLimited, 'rate limit exceeded');
      return undefined;
    }
    if (verdict === 'limited') {
      this.writeError('rate_limited', 'Too many frames; slow down.');
      return undefined;
    }
    const parsed = binary ? undefined : parseClientFrame(text, { maxMessageChars: limits.maxMessageChars, json: limits.jsonBounds });
    if (parsed?.ok && parsed.frame.type === 'ping') {
      this.write('{"type":"pong"}', 'pong');
      return undefined;
    }
    if (parsed?.ok && parsed.frame.type === 'auth') return this.renew(parsed.frame.token);
    this.refuseFrame('invalid_frame', `The ${this.route} route accepts only ping and auth frames.`);
    return undefined;
  }

  write(frame: OutgoingFrame, type?: string): void {
    if (this.closing) return;
    this.socket.send(frame);
    if (type !== undefined) this.metrics.framesOut.add(1, frameTypeLabels(type));
    if (this.socket.bufferedAmount > this.#settings.slowConsumerBytes) this.end(CLOSE_CODES.slowConsumer, 'connection too slow');
  }

  /** Starts reading the socket's frames (any that came before are handed over first). */
  protected listen(): void {
    this.socket.readFrames();
  }

  /** An error nobody expected while serving this connection: logged, then this connection closes with 1011. */
  fail(error: unknown): void {
    this.#settings.logger.error({ err: error, connectionId: this.id, route: this.route }, 'connection failed; closing it');
    this.metrics.errors.add(1, { code: 'internal' });
    this.end(CLOSE_CODES.internalError, 'internal error');
  }

  /** Answers a malformed frame, or closes with 1008 when they keep coming. */
  refuseFrame(code: ErrorCode, message: string, clientMsgId?: string): void {
    this.#invalidFrames ??= new InvalidFrameBudget(this.#settings.invalidFrameBurst);
    if (this.#invalidFrames.spend()) this.writeError(code, message, clientMsgId);
    else this.end(CLOSE_CODES.policyViolation, 'too many invalid frames');
  }

  writeError(code: ErrorCode, message: string, clientMsgId?: string): void {
    this.metrics.errors.add(1, { code });
    this.write(JSON.stringify({ type: 'error', code, message, ...(clientMsgId === undefined ? {} : { clientMsgId }) }), 'error');
  }

  /** Starts the closing handshake; a peer that does not finish it in time is dropped. */
  end(code: number, reason = ''): void {
    if (this.closing) return;
    this.#closing = true;
    if (code === CLOSE_CODES.slowConsumer) this.metrics.slowConsumerCutoffs.add(1);
    this.socket.close(code, reason);
    this.#terminateTimer = setTimeout(() => this.socket.terminate(), this.#settings.closeTimeoutMs);
    this.#terminateTimer.unref();
  }

  /** One heartbeat tick: a peer that did not answer the previous ping is dropped. */
  heartbeat(): void {
    if (this.#closed) return;
    if (!this.#alive) {
      this.socket.terminate();
      return;
    }
    this.#alive = false;
    this.socket.ping();
  }

  /** The session was closed: say so, then close with 4404. */
  sessionClosed(): void {
    this.write('{"type":"session_closed"}', 'session_closed');
    this.end(CLOSE_CODES.sessionNotFound, 'session closed');
  }

  /** The user was removed from the session: close with 4403 on every route. */
  memberRemoved(): void {
    this.end(CLOSE_CODES.forbidden, MEMBER_REMOVED_REASON);
  }

  /** Releases what the connection holds (presence, subscriptions); runs once, after the socket closed. */
  protected abstract cleanUp(code: number): Promise<void>;

  async #onClose(code: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeCode = code;
    clearTimeout(this.#terminateTimer);
    this.#cancelExpiry();
    this.welcomed();
    this.metrics.connectionsOpen.add(-1, routeLabels(this.route));
    this.metrics.disconnects.add(1, { route: this.route, code });
    try {
      await this.cleanUp(code);
    } catch {
      // Each clean-up step logs its own failure; the connection is gone either way.
    } finally {
      this.#cleanedUp = true;
      this.#settings.onDone?.(this);
      this.#resolveDone?.();
      this.#resolveDone = undefined;
    }
  }
}
