import { hostname } from 'node:os';
import { envSchema, type Env } from './env-schema.ts';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly variable: string;

  constructor(variable: string, problem: string, options?: { cause?: unknown }) {
    super(`${variable}: ${problem}`, options);
    this.variable = variable;
  }
}

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly backend: Env['CHAT_BACKEND'];
  readonly instanceId: string;
  readonly host: string;
  readonly ports: { readonly gateway: number; readonly api: number; readonly persister: number };
  readonly redisUrl: string;
  /** REDIS_MODE=cluster: REDIS_URL names one node of a Redis Cluster. */
  readonly redisCluster: boolean;
  /** NATS_URL: one server, or every server of a cluster (comma-separated), so the client can fail over. */
  readonly natsServers: readonly string[];
  readonly databaseUrl: string;
  readonly queue: { readonly stream: string; readonly subjectPrefix: string; readonly consumer: string; readonly replicas: number; readonly batchSize: number };
  readonly jwt: { readonly secret?: string; readonly jwksUrl?: string; readonly issuer?: string; readonly audience?: string };
  readonly allowedOrigins: readonly string[];
  readonly limits: {
    readonly maxMessageChars: number;
    readonly maxFrameBytes: number;
    /** Messages a user may send per second, and in a burst, over every socket and REST, across every replica. */
    readonly ratePerSec: number;
    readonly rateBurst: number;
    /** Sessions a user may create per minute (all at once, then refilled over the minute), across every replica. */
    readonly sessionCreatesPerMinute: number;
    readonly slowConsumerBytes: number;
    /** Nesting depth and keys plus elements of one frame or body. */
    readonly maxJsonDepth: number;
    readonly maxJsonEntries: number;
    /** Open WebSockets per user and per client address, across every replica. */
    readonly maxConnectionsPerUser: number;
    readonly maxConnectionsPerIp: number;
  };
  /** Peers whose X-Forwarded-For names the client address (a load balancer's address). */
  readonly trustedProxies: readonly string[];
  readonly timeouts: {
    /** HTTP: the request headers must arrive within this. */
    readonly httpHeadersMs: number;
    /** HTTP: the whole request must arrive within this. */
    readonly httpRequestMs: number;
    /** A WebSocket that has not been welcomed (admitted) within this is dropped. */
    readonly welcomeMs: number;
  };
  readonly heartbeatIntervalMs: number;
  readonly presenceTtlMs: number;
  readonly recentMessages: number;
  readonly shutdownGraceMs: number;
  /** A draining gateway spreads its clients' reconnects over this window (each told its delay in the 1001 close). */
  readonly drainReconnectWindowMs: number;
  /** A gateway whose Redis or NATS stays unanswered this long hands its clients over to other replicas (0: never). */
  readonly dependencyLossHandoverMs: number;
  readonly logLevel: Env['LOG_LEVEL'];
  readonly dataDir: string;
  readonly devSignIn: boolean;
  readonly webRoot?: string;
  /**
   * What the served UI may talk to besides its own origin (the first of each list is its default),
   * and which pages may frame it; both end up in its Content-Security-Policy.
   */
  readonly web: { readonly apiUrls: readonly string[]; readonly wsUrls: readonly string[]; readonly frameAncestors: readonly string[] };
  /** The kill switch: `hardOff` (CHAT_DISABLED) holds chat off; replicas read the shared switch every `pollMs`. */
  readonly chatSwitch: { readonly hardOff: boolean; readonly pollMs: number };
  /** Hosts (lower case, no port) an analysis result card's link may point to; empty refuses every link. */
  readonly analysisLinkHosts: readonly string[];
  /**
   * Where the session-api also asks for people by name (the finance backend's directory) and how
   * long it waits; without a URL it answers from the people it has seen alone.
   */
  readonly peopleLookup: { readonly url?: string; readonly timeoutMs: number };
}

export interface LoadOptions {
  /** Whether this process verifies tokens (gateway, session-api), so a key must be configured. */
  requireAuth?: boolean;
}

/** Parses the environment once into a frozen, typed config; throws ConfigError naming the variable. */
export function loadConfig(source: Record<string, string | undefined> = process.env, options: LoadOptions = {}): Config {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? 'environment'), issue?.message ?? 'invalid');
  }
  const env = parsed.data;
  if (options.requireAuth && env.JWT_SECRET === undefined && env.JWT_JWKS_URL === undefined) {
    throw new ConfigError('JWT_SECRET', 'set JWT_SECRET (HS256, at least 32 characters) or JWT_JWKS_URL');
  }
  if (env.DEV_SIGNIN && (env.NODE_ENV === 'production' || env.CHAT_BACKEND !== 'embedded')) {
    throw new ConfigError('DEV_SIGNIN', 'the development sign-in only exists in the embedded mode outside production');
  }
  return deepFreeze({
    env: env.NODE_ENV,
    backend: env.CHAT_BACKEND,
    instanceId: env.INSTANCE_ID ?? `${hostname()}-${process.pid}`,
    host: env.HOST,
    ports: { gateway: env.GATEWAY_PORT, api: env.API_PORT, persister: env.PERSISTER_PORT },
    redisUrl: env.REDIS_URL,
    redisCluster: env.REDIS_MODE === 'cluster',
    natsServers: env.NATS_URL,
    databaseUrl: env.DATABASE_URL,
    queue: {
      stream: env.NATS_STREAM,
      subjectPrefix: env.NATS_SUBJECT_PREFIX,
      consumer: env.NATS_CONSUMER,
      replicas: env.NATS_STREAM_REPLICAS,
      batchSize: env.PERSIST_BATCH_SIZE,
    },
    jwt: {
      ...(env.JWT_SECRET === undefined ? {} : { secret: env.JWT_SECRET }),
      ...(env.JWT_JWKS_URL === undefined ? {} : { jwksUrl: env.JWT_JWKS_URL }),
      ...(env.JWT_ISSUER === undefined ? {} : { issuer: env.JWT_ISSUER }),
      ...(env.JWT_AUDIENCE === undefined ? {} : { audience: env.JWT_AUDIENCE }),
    },
    allowedOrigins: env.ALLOWED_ORIGINS,
    limits: {
      maxMessageChars: env.MAX_MESSAGE_CHARS,
      maxFrameBytes: env.MAX_FRAME_BYTES,
      ratePerSec: env.RATE_LIMIT_PER_SEC,
      rateBurst: env.RATE_LIMIT_BURST,
      sessionCreatesPerMinute: env.SESSION_CREATE_PER_MINUTE,
      slowConsumerBytes: env.SLOW_CONSUMER_BYTES,
      maxJsonDepth: env.MAX_JSON_DEPTH,
      maxJsonEntries: env.MAX_JSON_ENTRIES,
      maxConnectionsPerUser: env.MAX_CONNECTIONS_PER_USER,
      maxConnectionsPerIp: env.MAX_CONNECTIONS_PER_IP,
    },
    trustedProxies: env.TRUSTED_PROXIES,
    timeouts: { httpHeadersMs: env.HTTP_HEADERS_TIMEOUT_MS, httpRequestMs: env.HTTP_REQUEST_TIMEOUT_MS, welcomeMs: env.WELCOME_TIMEOUT_MS },
    heartbeatIntervalMs: env.HEARTBEAT_INTERVAL_MS,
    presenceTtlMs: env.PRESENCE_TTL_MS,
    recentMessages: env.RECENT_MESSAGES,
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    drainReconnectWindowMs: env.DRAIN_RECONNECT_WINDOW_MS,
    dependencyLossHandoverMs: env.DEPENDENCY_LOSS_HANDOVER_MS,
    logLevel: env.LOG_LEVEL,
    dataDir: env.DATA_DIR,
    devSignIn: env.DEV_SIGNIN,
    ...(env.WEB_ROOT === undefined ? {} : { webRoot: env.WEB_ROOT }),
    web: { apiUrls: env.WEB_API_URLS.map(withoutTrailingSlash), wsUrls: env.WEB_WS_URLS.map(withoutTrailingSlash), frameAncestors: env.WEB_FRAME_ANCESTORS },
    chatSwitch: { hardOff: env.CHAT_DISABLED, pollMs: env.CHAT_SWITCH_POLL_MS },
    analysisLinkHosts: env.ANALYSIS_LINK_HOSTS.map((host) => host.toLowerCase()),
    peopleLookup: { ...(env.PEOPLE_LOOKUP_URL === undefined ? {} : { url: env.PEOPLE_LOOKUP_URL }), timeoutMs: env.PEOPLE_LOOKUP_TIMEOUT_MS },
  });
}

/** For a service's main: prints one line naming the variable and exits on a bad config. */
export function loadConfigOrExit(options: LoadOptions = {}, source: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(source, options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`configuration error: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
