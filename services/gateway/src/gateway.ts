import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Principal, TokenVerifier } from '@chat/auth';
import type { Config } from '@chat/config';
import type { Backend } from '@chat/composition';
import { HistoryReader, MemoryConnectionSlots, MemoryUserRateLimiter, recordingCallers, type ChatSwitch, type ConnectionSlots, type SlotClaim, type UserRateLimiter } from '@chat/core';
import { CHAT_DISABLED_REASON, CLOSE_CODES, drainCloseReason, ERROR_CODES, spreadDrainDelays } from '@chat/protocol';
import { handleHealthRoutes, Readiness, sendJson, type MetricsHandler, type Part } from '@chat/service-kit';
import { chatMetrics, type ChatMetrics } from '@chat/telemetry';
import { ExpirySweep } from './expiry-sweep.ts';
import { admit } from './admission.ts';
import { joinRetryBudget } from './join-retry.ts';
import { ChatConnection, type ChatConnectionDeps } from './chat-connection.ts';
import type { Connection } from './connection.ts';
import { DependencyWatch } from './dependency-watch.ts';
import type { GatewayLogger } from './gateway-logger.ts';
import { FeedConnection, type FeedConnectionDeps } from './feed-connection.ts';
import { LocalSessions } from './local-sessions.ts';
import { LocalUsers } from './local-users.ts';
import { PresenceRegistry } from './presence-registry.ts';
import { SlicedSweep } from './sliced-sweep.ts';
import type { Socket, UpgradeRequest } from './socket.ts';
import { StatusConnection, type StatusConnectionDeps } from './status-connection.ts';
import { parseUpgradeRoute, type UpgradeRoute } from './upgrade-route.ts';
import { WsServer } from './ws-adapter.ts';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Pings per turn of the event loop: about 2.5 ms of CPU. */
const HEARTBEAT_SLICE = 256;
/** Slot leases extended per call of a refresh (each connection holds about two). */
const LEASE_REFRESH_SLICE = 1_000;

/** Timings that are not configuration, exposed so tests can shorten them. */
export interface GatewayTuning {
  gapFillMs: number;
  gapSkipMs: number;
  closeTimeoutMs: number;
  backlogWaitMs: number;
  historyPageSize: number;
  presenceSweepMs: number;
  /** How often the heads of local sessions are compared with what was delivered (lost fan-out). */
  tailCheckMs: number;
  /** Malformed frames tolerated in a burst, refilled at one a second, before closing with 1008. */
  invalidFrameBurst: number;
  /** How often the dependencies are looked at when DEPENDENCY_LOSS_HANDOVER_MS is set. */
  dependencyCheckMs: number;
}

export const DEFAULT_TUNING: GatewayTuning = {
  gapFillMs: 300,
  gapSkipMs: 5_000,
  closeTimeoutMs: 2_000,
  backlogWaitMs: 2_000,
  historyPageSize: 500,
  presenceSweepMs: 10_000,
  tailCheckMs: 2_000,
  invalidFrameBurst: 20,
  dependencyCheckMs: 1_000,
};

/**
 * The ports a gateway works through, as the composition's backend holds them; a test may leave
 * out the optional ones.
 */
export type GatewayPorts = Pick<Backend, 'state' | 'bus' | 'intake' | 'directory' | 'store'> &
  Partial<Pick<Backend, 'queue' | 'workspace' | 'readMarks' | 'peopleRecorder' | 'slots' | 'rateLimiter'>>;

export interface GatewayDeps {
  config: Config;
  verifier: TokenVerifier;
  /**
   * Live state, bus, intake, directory and store; optionally: the queue (pinged by /readyz with
   * live state and the bus), workspace and readMarks (without them `read` frames answer
   * `unavailable`), peopleRecorder (notes every verified caller in the people directory, at most
   * once per user per interval; without it no one is), slots (open-connection counts per user and
   * per address; this process's own count by default) and rateLimiter (per-user send budgets; this
   * process's own count by default).
   */
  ports: GatewayPorts;
  logger: GatewayLogger;
  /** Serves /metrics; a placeholder answers until one is given. */
  metricsHandler?: MetricsHandler;
  /** Where counters and histograms go; the process-wide instruments by default. */
  metrics?: ChatMetrics;
  /** Any other HTTP request (the embedded mode mounts the REST app and the static UI here). */
  fallback?: HttpHandler;
  /** Overrides config.ports.gateway (0 picks a free port). */
  port?: number;
  tuning?: Partial<GatewayTuning>;
  /** The kill switch (started by its owner); while it is off, sockets are refused and closed with 4503. */
  chatSwitch?: ChatSwitch;
}

/** The WebSocket gateway: admission, per-connection protocol, local fan-out, presence and health. */
export class Gateway implements Part {
  readonly name = 'gateway';
  readonly readiness: Readiness;
  readonly #deps: GatewayDeps;
  readonly #ports: GatewayPorts;
  readonly #tuning: GatewayTuning;
  readonly #server: WsServer;
  readonly #sessions: LocalSessions;
  readonly #users: LocalUsers;
  readonly #presence: PresenceRegistry;
  /**
   * Open sockets on this replica, each with the client address its slot is counted under (none when
   * the peer's address was unknown). Their slot leases are named from this and the connection's id
   * when refreshed or given back, so an open connection holds no lease objects or key strings.
   */
  readonly #connections = new Map<Connection, string | undefined>();
  /** Token expiries of every connection, under one timer. */
  readonly #expiries = new ExpirySweep();
  /** Each heartbeat's pings, a slice per turn so messages in flight are not held behind them all. */
  readonly #heartbeats = new SlicedSweep<Connection>(HEARTBEAT_SLICE, (connection) => connection.heartbeat());
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #metrics: ChatMetrics;
  readonly #slots: ConnectionSlots;
  readonly #rateLimiter: UserRateLimiter;
  readonly #history: HistoryReader;
  #stopping: Promise<void> | undefined;
  readonly #dependencies: DependencyWatch | undefined;
  #unwatchSwitch: (() => void) | undefined;

  constructor(deps: GatewayDeps) {
    const { ports } = deps;
    // Admission and token renewal both verify through this, so both note the caller's name.
    this.#deps = { ...deps, verifier: recordingCallers(deps.verifier, ports.peopleRecorder) };
    this.#ports = ports;
    this.#tuning = { ...DEFAULT_TUNING, ...deps.tuning };
    this.#metrics = deps.metrics ?? chatMetrics();
    this.#slots = ports.slots ?? new MemoryConnectionSlots();
    this.#rateLimiter = ports.rateLimiter ?? new MemoryUserRateLimiter();
    this.#history = new HistoryReader({ store: ports.store, state: ports.state, queue: ports.queue });
    const { logger, config } = deps;
    const { state, bus } = ports;
    this.readiness = new Readiness().add('redis', () => state.ping()).add('bus', () => bus.ping());
    if (ports.queue) {
      const queue = ports.queue;
      this.readiness.add('nats', () => queue.ping());
    }
    if (config.dependencyLossHandoverMs > 0) {
      this.#dependencies = new DependencyWatch({ readiness: this.readiness, shedAfterMs: config.dependencyLossHandoverMs, onCut: () => this.#handOver() });
    }
    this.#sessions = new LocalSessions({ bus, state, logger, metrics: this.#metrics, timing: { gapFillMs: this.#tuning.gapFillMs, gapSkipMs: this.#tuning.gapSkipMs } });
    this.#users = new LocalUsers({ bus, logger });
    this.#presence = new PresenceRegistry({ state, bus, logger, ttlMs: config.presenceTtlMs });
    this.#server = new WsServer({
      host: config.host,
      port: deps.port ?? config.ports.gateway,
      maxPayload: config.limits.maxFrameBytes,
      upgradePrefix: '/ws/',
      closeGraceMs: this.#tuning.closeTimeoutMs,
      headersTimeoutMs: config.timeouts.httpHeadersMs,
      requestTimeoutMs: config.timeouts.httpRequestMs,
      onConnection: (socket, request) => this.#accept(socket, request),
      onHttp: (req, res) => this.#http(req, res),
    });
  }

  async start(): Promise<void> {
    await this.#server.start();
    const { heartbeatIntervalMs, presenceTtlMs } = this.#deps.config;
    this.#every(heartbeatIntervalMs, () => this.#heartbeats.run(this.#connections.keys()));
    this.#every(Math.max(1, Math.floor(presenceTtlMs / 3)), () => {
      void this.#presence.refresh();
      void this.#refreshLeases();
    });
    this.#every(this.#tuning.presenceSweepMs, () => void this.#presence.sweep(this.#sessions.sessionIds()));
    this.#every(this.#tuning.tailCheckMs, () => void this.#sessions.checkTails());
    const dependencies = this.#dependencies;
    if (dependencies) this.#every(this.#tuning.dependencyCheckMs, () => void dependencies.check());
    this.#unwatchSwitch = this.#deps.chatSwitch?.onChange((state) => {
      if (state === 'off') this.#closeAll(CLOSE_CODES.chatDisabled, CHAT_DISABLED_REASON);
    });
    this.#deps.logger.info({ port: this.address().port }, 'gateway listening');
  }

  address(): AddressInfo {
    return this.#server.address();
  }

  /** Open sockets on this replica. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Refuses new upgrades and reports not ready first, then closes every socket with 1001 and a
   * reconnect delay spread over DRAIN_RECONNECT_WINDOW_MS (each leaves presence as it goes), drops
   * the subscriptions and stops the server.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#server.stopAccepting();
    this.readiness.drain();
    this.#unwatchSwitch?.();
    for (const timer of this.#timers) clearInterval(timer);
    this.#heartbeats.cancel();
    this.#expiries.clear();
    const open = [...this.#connections.keys()];
    // Each client is told its own moment to come back, so a restart does not bring them all at once.
    const delays = spreadDrainDelays(open.length, this.#deps.config.drainReconnectWindowMs);
    open.forEach((connection, i) => connection.end(CLOSE_CODES.goingAway, drainCloseReason(delays[i] ?? 0)));
    await Promise.race([Promise.all(open.map((connection) => connection.done)), delay(this.#deps.config.shutdownGraceMs)]);
    await Promise.all([this.#sessions.settle(), this.#users.settle()]);
    await this.#server.close();
  }

  /**
   * This replica lost Redis or NATS for longer than DEPENDENCY_LOSS_HANDOVER_MS: its clients are
   * closed as in a drain (1001 with a reconnect hint), so they move to a replica that can serve them.
   */
  #handOver(): void {
    const open = [...this.#connections.keys()];
    this.#deps.logger.warn({ connections: open.length }, 'dependencies unanswered; handing the clients over to other replicas');
    const delays = spreadDrainDelays(open.length, this.#deps.config.drainReconnectWindowMs);
    open.forEach((connection, i) => connection.end(CLOSE_CODES.goingAway, drainCloseReason(delays[i] ?? 0)));
  }

  #chatOff(): boolean {
    return this.#deps.chatSwitch?.isOn === false;
  }

  #closeAll(code: number, reason: string): void {
    const open = [...this.#connections.keys()];
    if (open.length > 0) this.#deps.logger.info({ code, connections: open.length }, 'closing every connection');
    for (const connection of open) connection.end(code, reason);
  }

  /**
   * Slot leases, about LEASE_REFRESH_SLICE per call one after the other, for the same reason as the
   * presence refresh. A slice is built when its turn comes: the keys of every connection at once
   * lived across the round trips and were promoted to the old generation.
   */
  async #refreshLeases(): Promise<void> {
    try {
      for (const holders of this.#openLeaseSlices()) await this.#slots.refresh(holders);
    } catch (error) {
      this.#deps.logger.warn({ err: error }, 'connection slot refresh failed');
    }
  }

  #every(ms: number, tick: () => void): void {
    const timer = setInterval(tick, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  #http(req: IncomingMessage, res: ServerResponse): void {
    if (handleHealthRoutes(req, res, this.readiness, this.#deps.metricsHandler ?? metricsPlaceholder)) return;
    if (this.#deps.fallback) return this.#deps.fallback(req, res);
    sendJson(res, 404, { error: { code: 'route_not_found', message: ERROR_CODES.route_not_found.message } });
  }

  /** Admits and opens an upgraded socket; one not welcomed within WELCOME_TIMEOUT_MS is dropped. */
  #accept(socket: Socket, request: UpgradeRequest): void {
    const deadline = setTimeout(() => socket.terminate(), this.#deps.config.timeouts.welcomeMs);
    deadline.unref();
    this.#connect(socket, request)
      .catch((error: unknown) => {
        this.#deps.logger.error({ err: error, remoteAddress: request.remoteAddress }, 'admitting a connection failed; closing it');
        socket.close(CLOSE_CODES.internalError, 'internal error');
      })
      .finally(() => {
        clearTimeout(deadline);
        socket.releaseHandshake();
      });
  }

  /** Settles once the socket is refused, or welcomed, or closed before its welcome. */
  async #connect(socket: Socket, request: UpgradeRequest): Promise<void> {
    const route = parseUpgradeRoute(request);
    if (!route) return socket.close(CLOSE_CODES.sessionNotFound, 'no such route');
    // Refused before admission, which would wait on the lost dependencies: the client moves on at once.
    if (this.#dependencies?.cut) return socket.close(CLOSE_CODES.goingAway, drainCloseReason(Math.random() * this.#deps.config.drainReconnectWindowMs));
    if (this.#chatOff()) {
      this.#metrics.disconnects.add(1, { route: route.kind, code: CLOSE_CODES.chatDisabled });
      return socket.close(CLOSE_CODES.chatDisabled, CHAT_DISABLED_REASON);
    }
    // A read that fails on a dependency slow for a moment is tried again within half the welcome budget.
    const retry = joinRetryBudget(this.#deps.config.timeouts.welcomeMs);
    const admission = await admit(route, {
      verifier: this.#deps.verifier,
      directory: this.#ports.directory,
      allowedOrigins: this.#deps.config.allowedOrigins,
      retry,
      onRetry: (error) => this.#deps.logger.debug({ err: error, sessionId: route.sessionId.slice(0, 64) }, 'retrying the membership read of a join'),
    });
    if (!admission.ok) {
      const log = { route: route.kind, sessionId: route.sessionId.slice(0, 64), code: admission.code, remoteAddress: request.remoteAddress };
      if (admission.cause === undefined) this.#deps.logger.info(log, 'connection refused');
      else this.#deps.logger.warn({ ...log, err: admission.cause }, 'connection refused: dependency unavailable');
      this.#metrics.disconnects.add(1, { route: route.kind, code: admission.code });
      return socket.close(admission.code, admission.reason);
    }
    if (this.#stopping) return socket.close(CLOSE_CODES.goingAway, drainCloseReason(Math.random() * this.#deps.config.drainReconnectWindowMs));
    // The switch may have turned off while the token and membership were checked.
    if (this.#chatOff()) return socket.close(CLOSE_CODES.chatDisabled, CHAT_DISABLED_REASON);
    // The connection's id names its slot leases: one string for both.
    const connectionId = randomUUID();
    const address = clientAddress(request, this.#deps.config.trustedProxies);
    if (!(await this.#slots.acquireAll(connectionId, slotClaims(admission.principal.userId, address, this.#deps.config.limits)))) {
      this.#deps.logger.info({ route: route.kind, userId: admission.principal.userId, remoteAddress: request.remoteAddress }, 'connection refused: too many connections');
      this.#metrics.disconnects.add(1, { route: route.kind, code: CLOSE_CODES.rateLimited });
      return socket.close(CLOSE_CODES.rateLimited, 'too many connections');
    }
    const connection = this.#open(socket, route, admission.principal, retry.until, connectionId);
    this.#deps.logger.debug({ connectionId, route: route.kind, sessionId: route.sessionId, userId: admission.principal.userId }, 'connection opened');
    this.#connections.set(connection, address);
    await connection.welcome;
  }

  /** Called by every connection once it closed and cleaned up: its slots are given back. */
  #forget(connection: Connection): void {
    if (!this.#connections.has(connection)) return;
    const address = this.#connections.get(connection);
    this.#connections.delete(connection);
    // Only the keys matter to a release; the limits do not.
    for (const { key } of slotClaims(connection.userId, address, this.#deps.config.limits)) void this.#slots.release(key, connection.id);
    this.#deps.logger.debug({ connectionId: connection.id, route: connection.route, code: connection.closeCode }, 'connection closed');
  }

  /** The slot leases of every open connection, for a refresh: each key with its holders, a slice at a time. */
  *#openLeaseSlices(): Generator<Map<string, string[]>> {
    let holders = new Map<string, string[]>();
    let leases = 0;
    for (const [connection, address] of this.#connections) {
      addHolder(holders, userSlotKey(connection.userId), connection.id);
      if (address !== undefined) addHolder(holders, addressSlotKey(address), connection.id);
      leases += address === undefined ? 1 : 2;
      if (leases < LEASE_REFRESH_SLICE) continue;
      yield holders;
      holders = new Map();
      leases = 0;
    }
    if (holders.size > 0) yield holders;
  }

  #open(socket: Socket, route: UpgradeRoute, principal: Principal, joinRetryUntil: number, id: string): Connection {
    const sessionId = route.sessionId.toLowerCase();
    if (route.kind === 'feed') {
      const feed = new FeedConnection(socket, principal, this.#feedDeps(), id);
      feed.open().catch((error: unknown) => feed.fail(error));
      return feed;
    }
    if (route.kind === 'status') {
      const status = new StatusConnection(socket, principal, sessionId, this.#statusDeps(), id);
      status.open().catch((error: unknown) => status.fail(error));
      return status;
    }
    const chat = new ChatConnection(socket, principal, sessionId, this.#chatDeps(), id);
    chat.open(route.lastSeq, joinRetryUntil).catch((error: unknown) => chat.fail(error));
    return chat;
  }

  // The settings every connection of a route reads, made once: a copy per connection cost ~700 bytes each.
  #sharedChatDeps: ChatConnectionDeps | undefined;
  #sharedFeedDeps: FeedConnectionDeps | undefined;
  #sharedStatusDeps: StatusConnectionDeps | undefined;

  #commonDeps() {
    const { config, logger, verifier } = this.#deps;
    const { state } = this.#ports;
    return {
      state,
      verifier,
      sessions: this.#sessions,
      logger,
      slowConsumerBytes: config.limits.slowConsumerBytes,
      closeTimeoutMs: this.#tuning.closeTimeoutMs,
      invalidFrameBurst: this.#tuning.invalidFrameBurst,
      metrics: this.#metrics,
      expiries: this.#expiries,
      maxMessageChars: config.limits.maxMessageChars,
      jsonBounds: { maxDepth: config.limits.maxJsonDepth, maxEntries: config.limits.maxJsonEntries },
      ratePerSec: config.limits.ratePerSec,
      rateBurst: config.limits.rateBurst,
      onDone: (connection: Connection) => this.#forget(connection),
    };
  }

  #chatDeps(): ChatConnectionDeps {
    const { config } = this.#deps;
    const { bus, intake, readMarks } = this.#ports;
    this.#sharedChatDeps ??= {
      ...this.#commonDeps(),
      bus,
      intake,
      history: this.#history,
      presence: this.#presence,
      rateLimiter: this.#rateLimiter,
      budgetInReserve: this.#ports.state.takesBudgetsOf?.(this.#rateLimiter) === true,
      backlogWaitMs: this.#tuning.backlogWaitMs,
      historyPageSize: this.#tuning.historyPageSize,
      ...(readMarks === undefined ? {} : { readMarks }),
      analysisLinkHosts: config.analysisLinkHosts,
    };
    return this.#sharedChatDeps;
  }

  #feedDeps(): FeedConnectionDeps {
    const { directory, workspace } = this.#ports;
    this.#sharedFeedDeps ??= { ...this.#commonDeps(), directory, users: this.#users, ...(workspace === undefined ? {} : { workspace }) };
    return this.#sharedFeedDeps;
  }

  #statusDeps(): StatusConnectionDeps {
    const { workspace } = this.#ports;
    this.#sharedStatusDeps ??= { ...this.#commonDeps(), ...(workspace === undefined ? {} : { workspace }) };
    return this.#sharedStatusDeps;
  }
}

/** A slot under the user and one under the client address, when it is known: both are taken in one call or neither. */
function slotClaims(userId: string, address: string | undefined, limits: { maxConnectionsPerUser: number; maxConnectionsPerIp: number }): SlotClaim[] {
  const claims: SlotClaim[] = [{ key: userSlotKey(userId), max: limits.maxConnectionsPerUser }];
  if (address !== undefined) claims.push({ key: addressSlotKey(address), max: limits.maxConnectionsPerIp });
  return claims;
}

function userSlotKey(userId: string): string {
  return `limits:connections:user:{${userId}}`;
}

function addressSlotKey(address: string): string {
  return `limits:connections:ip:{${address}}`;
}

function addHolder(holders: Map<string, string[]>, key: string, holder: string): void {
  const list = holders.get(key);
  if (list === undefined) holders.set(key, [holder]);
  else list.push(holder);
}

/** The peer's address, or the client's as a trusted load balancer reports it (the last X-Forwarded-For hop). */
function clientAddress(request: UpgradeRequest, trustedProxies: readonly string[]): string | undefined {
  const peer = request.remoteAddress;
  if (peer === undefined || !trustedProxies.includes(peer)) return peer;
  const header = request.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((hop) => hop.trim()).filter((hop) => hop.length > 0);
  return forwarded.at(-1) ?? peer;
}

const metricsPlaceholder: MetricsHandler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
  res.end('');
};

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
