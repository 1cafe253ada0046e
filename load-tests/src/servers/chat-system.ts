import { join } from 'node:path';
import { startOnFreePort, type ServiceProcess } from './service-process.ts';

export interface InfraUrls {
  redisUrl: string;
  /** One URL, or a NATS cluster's comma-separated. */
  natsUrl: string;
  databaseUrl: string;
  /** Redis is a Redis Cluster (REDIS_MODE=cluster) and NATS a three-node cluster (streams at R3). */
  clustered?: boolean;
}

/** The servers of a NATS URL as the client takes them. */
export function natsServers(natsUrl: string): string[] {
  return natsUrl.split(',').map((url) => url.trim());
}

/** Stream, subject prefix and durable consumer of one run, so a run never touches another's queue. */
export interface QueueNames {
  stream: string;
  subjectPrefix: string;
  consumer: string;
}

export interface ChatSystemOptions {
  repoRoot: string;
  logDir: string;
  secret: string;
  infra: InfraUrls;
  queue: QueueNames;
  gateways: number;
  persister: boolean;
  /** JetStream replicas of the run's stream; 3 needs a three-server cluster. */
  streamReplicas?: number;
}

export interface Endpoint {
  url: string;
  process: ServiceProcess;
}

/** Our services as separate processes: N gateway replicas, one session-api, optionally one persister. */
export class ChatSystem {
  readonly gateways: Endpoint[];
  readonly api: Endpoint;
  readonly persister: Endpoint | null;

  private constructor(gateways: Endpoint[], api: Endpoint, persister: Endpoint | null) {
    this.gateways = gateways;
    this.api = api;
    this.persister = persister;
  }

  static async start(options: ChatSystemOptions): Promise<ChatSystem> {
    const started: ServiceProcess[] = [];
    try {
      const api = await startService(options, 'session-api', 'services/session-api/src/main.ts', 'API_PORT', started);
      const gateways: Endpoint[] = [];
      for (let i = 0; i < options.gateways; i++) {
        gateways.push(await startService(options, `gateway-${i + 1}`, 'services/gateway/src/main.ts', 'GATEWAY_PORT', started));
      }
      const persister = options.persister ? await startService(options, 'persister', 'services/persister/src/main.ts', 'PERSISTER_PORT', started) : null;
      return new ChatSystem(gateways, api, persister);
    } catch (error) {
      await Promise.all(started.map((service) => service.stop()));
      throw error;
    }
  }

  get wsUrls(): string[] {
    return this.gateways.map((gateway) => gateway.url.replace(/^http/, 'ws'));
  }

  async stop(): Promise<void> {
    const all = [...this.gateways, this.api, ...(this.persister ? [this.persister] : [])];
    await Promise.all(all.map((endpoint) => endpoint.process.stop()));
  }
}

/** The environment every service of a run shares; limits are lifted so the benchmark measures capacity, not policy. */
export function serviceEnv(options: Pick<ChatSystemOptions, 'secret' | 'infra' | 'queue' | 'streamReplicas'>, instanceId: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    REDIS_URL: options.infra.redisUrl,
    NATS_URL: options.infra.natsUrl,
    DATABASE_URL: options.infra.databaseUrl,
    JWT_SECRET: options.secret,
    NATS_STREAM: options.queue.stream,
    NATS_SUBJECT_PREFIX: options.queue.subjectPrefix,
    NATS_CONSUMER: options.queue.consumer,
    NATS_STREAM_REPLICAS: String(options.streamReplicas ?? 1),
    RATE_LIMIT_PER_SEC: '1000000',
    RATE_LIMIT_BURST: '1000000',
    // The idle ramp opens 15,000 sockets from four loopback addresses; the caps are still taken and released.
    MAX_CONNECTIONS_PER_IP: '1000000',
    // Every session of a run is created by one admin caller.
    SESSION_CREATE_PER_MINUTE: '1000000',
    INSTANCE_ID: instanceId,
    ...(options.infra.clustered ? { REDIS_MODE: 'cluster', NATS_STREAM_REPLICAS: '3' } : {}),
  };
}

export async function startService(
  options: Pick<ChatSystemOptions, 'secret' | 'infra' | 'queue' | 'repoRoot' | 'logDir' | 'streamReplicas'>,
  name: string,
  script: string,
  portVariable: 'API_PORT' | 'GATEWAY_PORT' | 'PERSISTER_PORT',
  started: ServiceProcess[],
): Promise<Endpoint> {
  const { port, service } = await startOnFreePort((candidate) => ({
    name,
    script,
    cwd: options.repoRoot,
    env: { ...serviceEnv(options, `bench-${name}`), [portVariable]: String(candidate) },
    readyUrl: `http://127.0.0.1:${candidate}/readyz`,
    logFile: join(options.logDir, `${name}.log`),
  }));
  started.push(service);
  return { url: `http://127.0.0.1:${port}`, process: service };
}
