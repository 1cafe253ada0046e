import { ApiClient, type FetchLike } from './api-client.ts';
import type { ConnectionState } from './connection-state.ts';
import { browserEnvironment, type EnvironmentSignals } from './environment.ts';
import { ChatClientError } from './errors.ts';
import { ManagedSocket } from './managed-socket.ts';
import { ReconnectPolicy, type BackoffOptions } from './reconnect-policy.ts';
import type { WebSocketConstructor } from './socket.ts';
import { TokenKeeper, type TokenProvider } from './token-keeper.ts';

/** What every client of the gateway's routes is given: where to connect, how to sign in, how to wait. */
export interface GatewayConnectionOptions {
  token: string;
  /**
   * Fetches a fresh token for the same user. With it an `auth` frame goes out on every open socket
   * `renewBeforeMs` before the token expires, and after a 4401 a token is fetched and the socket
   * reconnects (resuming) instead of stopping.
   */
  tokenProvider?: TokenProvider;
  /** How long before expiry the token is renewed; default 60 s. 0 renews only after a 4401. */
  renewBeforeMs?: number;
  /**
   * Base of the gateway, e.g. `ws://localhost:8080` (a load balancer in front of the replicas), or
   * the bases of several replicas: a socket moves to the next one after a drain close (1001) or
   * an attempt that never opened.
   */
  wsUrl: string | readonly string[];
  /** Base of the session-api, e.g. `http://localhost:8081`, for `GET /status` while chat is turned off; empty for the page's origin. */
  apiUrl: string;
  /** Defaults to the global `WebSocket`; Node passes the `ws` package's. */
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  backoff?: BackoffOptions;
  /** While chat is turned off (close 4503), how often GET /status is asked whether it is back on. Default 30 s. */
  disabledPollMs?: number;
  /** Online/visibility signals; defaults to the browser's when present, `null` for none. */
  environment?: EnvironmentSignals | null;
}

/** One route of the gateway kept open. */
export interface RouteSpec {
  /** The route's path after the base, e.g. `/ws/feed`. */
  path: string;
  /** Query parameters besides the token, read anew for every attempt (a resume cursor moves). */
  query?: () => Record<string, string>;
  onText: (text: string) => void;
  /** Called after the socket sent a token renewed while it was connecting, if any. */
  onState?: (state: ConnectionState) => void;
  /** Application-level ping interval; 0 or absent turns it off. */
  heartbeatMs?: number;
}

/**
 * The routes one client keeps open to the gateway, sharing a token, a session-api client and the
 * online/visibility signals: each route's socket reconnects with its own backoff, waits out a chat
 * switch, and carries a renewed token (in its URL, or in an `auth` frame once open).
 */
export class RouteSockets<Route extends string> {
  readonly api: ApiClient;
  readonly #tokens: TokenKeeper;
  readonly #environment: EnvironmentSignals | undefined;
  readonly #sockets = new Map<Route, ManagedSocket>();
  readonly #unlisten: (() => void)[] = [];
  /** The token each route's latest socket was opened with: one renewed while it was connecting is sent once it is open. */
  readonly #openedWith = new Map<Route, string>();
  #started = false;

  constructor(options: GatewayConnectionOptions, routes: Readonly<Partial<Record<Route, RouteSpec>>>) {
    const bases = typeof options.wsUrl === 'string' ? [options.wsUrl] : options.wsUrl;
    if (bases.length === 0) throw new ChatClientError('invalid_input', 'wsUrl names no gateway.');
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketImpl === undefined) throw new ChatClientError('invalid_input', 'No WebSocket implementation: pass the WebSocket option.');
    this.#tokens = new TokenKeeper({
      token: options.token,
      ...(options.tokenProvider === undefined ? {} : { provider: options.tokenProvider }),
      renewBeforeMs: options.renewBeforeMs ?? 60_000,
      onRenewed: (token) => this.#onTokenRenewed(token),
    });
    this.api = new ApiClient({ apiUrl: options.apiUrl, token: options.token, ...(options.fetch ? { fetch: options.fetch } : {}) });
    this.#environment = options.environment === null ? undefined : (options.environment ?? browserEnvironment());
    const renewToken = options.tokenProvider === undefined ? {} : { renewToken: () => this.#tokens.renewNow() };
    for (const [route, spec] of Object.entries(routes) as [Route, RouteSpec | undefined][]) {
      if (spec === undefined) continue;
      const heartbeatMs = spec.heartbeatMs ?? 0;
      this.#sockets.set(
        route,
        new ManagedSocket({
          url: (replica) => this.#url(route, spec, bases, replica),
          replicas: bases.length,
          WebSocket: WebSocketImpl,
          policy: new ReconnectPolicy(options.backoff),
          onText: spec.onText,
          onState: (state) => {
            if (state.status === 'open') this.#sendTokenIfRenewed(route);
            spec.onState?.(state);
          },
          isChatOn: async () => (await this.api.chatStatus()).chat === 'on',
          ...renewToken,
          ...(options.disabledPollMs === undefined ? {} : { disabledPollMs: options.disabledPollMs }),
          ...(heartbeatMs > 0 ? { heartbeat: { intervalMs: heartbeatMs, frame: JSON.stringify({ type: 'ping' }) } } : {}),
        }),
      );
    }
  }

  /** The route's connection; `idle` for a route not given to the constructor. */
  state(route: Route): ConnectionState {
    return this.#sockets.get(route)?.state ?? { status: 'idle' };
  }

  /** False when the route's socket could not take the frame (not open, or no such route). */
  send(route: Route, text: string): boolean {
    return this.#sockets.get(route)?.send(text) ?? false;
  }

  /** Closes one route for good, with `code` as the state's close code. */
  stop(route: Route, code?: number): void {
    this.#sockets.get(route)?.stop(code);
  }

  /** Opens every route and follows the environment's signals; a second call does nothing. */
  connect(): void {
    if (this.#started) return;
    this.#started = true;
    const env = this.#environment;
    if (env) {
      this.#unlisten.push(
        env.onOffline(() => this.#each((s) => s.goOffline())),
        env.onOnline(() => this.#each((s) => s.goOnline())),
        env.onVisible(() => this.#each((s) => s.retryNow())),
      );
      if (!env.isOnline()) this.#each((s) => s.goOffline());
    }
    this.#each((s) => s.start());
    this.#tokens.start();
  }

  /** Cuts every backoff wait short. */
  reconnectNow(): void {
    this.#each((s) => s.retryNow());
  }

  /** Closes every route for good. */
  close(): void {
    this.#started = false;
    this.#unlisten.splice(0).forEach((off) => off());
    this.#tokens.stop();
    this.#each((s) => s.stop());
  }

  #each(act: (socket: ManagedSocket) => void): void {
    this.#sockets.forEach(act);
  }

  #url(route: Route, spec: RouteSpec, bases: readonly string[], replica: number): string {
    const base = (bases[replica % bases.length] ?? '').replace(/\/+$/, '');
    const token = this.#tokens.token;
    this.#openedWith.set(route, token);
    return `${base}${spec.path}?${new URLSearchParams({ token, ...spec.query?.() }).toString()}`;
  }

  /** Open sockets keep their rights with the fresh token; sockets opened later carry it in their URL. */
  #onTokenRenewed(token: string): void {
    this.api.setToken(token);
    const frame = JSON.stringify({ type: 'auth', token });
    this.#sockets.forEach((socket, route) => {
      if (socket.send(frame)) this.#openedWith.set(route, token);
    });
  }

  #sendTokenIfRenewed(route: Route): void {
    const token = this.#tokens.token;
    if (this.#openedWith.get(route) === token) return;
    if (this.#sockets.get(route)?.send(JSON.stringify({ type: 'auth', token }))) this.#openedWith.set(route, token);
  }
}

/** One text frame checked against a route's schema; undefined for bad JSON or a frame this version does not know (the server may add frames). */
export function parseFrame<T>(text: string, schema: { safeParse(value: unknown): { success: true; data: T } | { success: false } }): T | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
}
