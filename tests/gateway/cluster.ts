import { randomUUID } from 'node:crypto';
import { signToken, type TokenClaims } from '@chat/auth';
import { createConsumerBackend, createServicesBackend, createVerifier, type ConsumerBackend } from '@chat/composition';
import { loadConfig, type Config } from '@chat/config';
import type { ChatStore, DeadLetterStore } from '@chat/core';
import { JetStreamQueue } from '@chat/jetstream';
import { createDatabase, migrateToLatest } from '@chat/db';
import { Gateway, type GatewayTuning } from '@chat/gateway';
import type { ChatMessage } from '@chat/protocol';
import { PERSISTER_CONSUMER_TUNING, PersisterWorker } from '@chat/persister';
import { connect } from '@nats-io/transport-node';
import { deleteStream, randomStream } from '../queue/queue-harness.ts';
import { TEST_DATABASE_URL, TEST_NATS_URL, TEST_REDIS_URL } from '../support/services.ts';

export const SECRET = 'gateway-integration-secret-0123456789-abcdef';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export interface Replica {
  gateway: Gateway;
  url(path: string): string;
  http(path: string): string;
  /** Stops the gateway and closes its clients; idempotent. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  env?: Record<string, string>;
  tuning?: Partial<GatewayTuning>;
  /** false: no persister, so acknowledged messages stay in JetStream only. */
  persister?: boolean;
}

/**
 * Gateway replicas over the real Redis, NATS JetStream (a stream of its own) and PostgreSQL,
 * with an in-process persister draining the stream into PostgreSQL, as in production.
 */
export class Cluster {
  readonly names = randomStream();
  readonly store: ChatStore;
  readonly deadLetters: DeadLetterStore;
  readonly #options: ClusterOptions;
  readonly #replicas: Replica[] = [];
  /** The persister's side of the composition: PostgreSQL and the stream's consumer. */
  readonly #persisterSide: ConsumerBackend;
  #persister: PersisterWorker | undefined;

  constructor(options: ClusterOptions = {}) {
    this.#options = options;
    this.#persisterSide = createConsumerBackend(this.#config('persister', { NATS_CONSUMER: 'persister', PERSIST_BATCH_SIZE: '200' }), { role: 'gateway-test', maxDbConnections: 4, consumer: PERSISTER_CONSUMER_TUNING });
    this.store = this.#persisterSide.store;
    this.deadLetters = this.#persisterSide.deadLetters;
  }

  static async start(replicas: number, options: ClusterOptions = {}): Promise<Cluster> {
    const cluster = new Cluster(options);
    const db = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    for (let i = 0; i < replicas; i++) await cluster.addReplica(`r${i}`);
    if (options.persister !== false) await cluster.#startPersister();
    return cluster;
  }

  replica(index: number): Replica {
    const replica = this.#replicas[index];
    if (!replica) throw new Error(`no replica ${index}`);
    return replica;
  }

  /** `env` overrides this replica's configuration, e.g. a REDIS_URL through a proxy that a test can cut. */
  async addReplica(instanceId: string, env: Record<string, string> = {}): Promise<Replica> {
    const config = this.#config(instanceId, { ...this.#options.env, ...env });
    // Reconnects forever, and soon: outage tests cut NATS and bring it back.
    const backend = await createServicesBackend(config, { role: 'gateway', maxDbConnections: 4, natsReconnectWaitMs: 250 });
    // The ports these replicas have always had: caps and send budgets are counted by each replica alone.
    const { state, bus, intake, directory, store, queue } = backend;
    const gateway = new Gateway({
      config,
      verifier: createVerifier(config),
      ports: { state, bus, intake, directory, store, queue },
      logger: quiet,
      port: 0,
      tuning: { closeTimeoutMs: 500, ...this.#options.tuning },
    });
    await gateway.start();
    const port = gateway.address().port;
    let stopped: Promise<void> | undefined;
    const replica: Replica = {
      gateway,
      url: (path) => `ws://127.0.0.1:${port}${path}`,
      http: (path) => `http://127.0.0.1:${port}${path}`,
      stop: () =>
        (stopped ??= (async () => {
          await gateway.stop();
          await backend.close();
        })()),
    };
    this.#replicas.push(replica);
    return replica;
  }

  async createSession(members: readonly string[]): Promise<string> {
    const id = randomUUID();
    await this.store.createSession({ id, title: 'integration', members, metadata: {}, createdAt: new Date().toISOString() });
    return id;
  }

  token(claims: TokenClaims): Promise<string> {
    return signToken(SECRET, claims);
  }

  /** The highest seq of the session that JetStream holds, read on a connection of its own. */
  async queuedSeq(sessionId: string): Promise<number> {
    const queue = await JetStreamQueue.create(await connect({ servers: TEST_NATS_URL }), { ...this.names, replicas: 1 });
    try {
      return await queue.lastSeq(sessionId);
    } finally {
      await queue.close();
    }
  }

  /** Every message of the session that JetStream holds, in seq order. */
  async queued(sessionId: string): Promise<ChatMessage[]> {
    const queue = await JetStreamQueue.create(await connect({ servers: TEST_NATS_URL }), { ...this.names, replicas: 1 });
    try {
      return await queue.range(sessionId, 0, Number.MAX_SAFE_INTEGER, 10_000);
    } finally {
      await queue.close();
    }
  }

  /** Waits until PostgreSQL holds the session's messages up to `seq`. */
  async persistedUpTo(sessionId: string, seq: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.store.maxSeq(sessionId)) < seq) {
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not reach seq ${seq} of ${sessionId}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async dispose(): Promise<void> {
    for (const replica of this.#replicas) await replica.stop();
    await this.#persister?.stop();
    await this.#persisterSide.close();
    await deleteStream(this.names.stream);
  }

  /** A part's configuration on the cluster's stream; `env` adds to or overrides it. */
  #config(instanceId: string, env: Record<string, string>): Config {
    return loadConfig(
      {
        JWT_SECRET: SECRET,
        HOST: '127.0.0.1',
        REDIS_URL: TEST_REDIS_URL,
        NATS_URL: TEST_NATS_URL,
        DATABASE_URL: TEST_DATABASE_URL,
        NATS_STREAM: this.names.stream,
        NATS_SUBJECT_PREFIX: this.names.subjectPrefix,
        INSTANCE_ID: instanceId,
        ...env,
      },
      { requireAuth: true },
    );
  }

  /** The persister service, in-process, on the cluster's stream. */
  async #startPersister(): Promise<void> {
    this.#persister = new PersisterWorker({
      consumer: () => this.#persisterSide.consumer(),
      store: this.store,
      deadLetters: this.deadLetters,
      logger: quiet,
    });
    await this.#persister.start();
  }
}
