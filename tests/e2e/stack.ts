import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { onFreePort } from '../support/ports.ts';
import { TEST_DATABASE_URL, TEST_NATS_URL, TEST_REDIS_URL } from '../support/services.ts';

export const ROOT = join(import.meta.dirname, '..', '..');

/** One service process of the real system, started with `node services/<name>/src/main.ts`. */
export class ServiceProcess {
  readonly name: string;
  readonly port: number;
  readonly #env: Record<string, string>;
  readonly #entry: string;
  #child: ChildProcess | undefined;
  #output = '';
  /** Settles once the process has exited and its output is read to the end. */
  #closed: Promise<void> = Promise.resolve();

  constructor(name: string, entry: string, port: number, env: Record<string, string>) {
    this.name = name;
    this.#entry = entry;
    this.port = port;
    this.#env = env;
  }

  get output(): string {
    return this.#output;
  }

  /** True while the process started by start() has not exited. */
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /**
   * Starts the service on a free port, and again on another one when something took the port
   * between the check and the service's bind. `env` gives the variables for a port.
   */
  static startOnFreePort(name: string, entry: string, env: (port: number) => Record<string, string>): Promise<ServiceProcess> {
    return onFreePort(async (port) => {
      const service = new ServiceProcess(name, entry, port, env(port));
      await service.start();
      return service;
    });
  }

  async start(): Promise<void> {
    const child = spawn(process.execPath, [this.#entry], { cwd: ROOT, env: { ...process.env, ...this.#env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#closed = new Promise((resolve) => child.once('close', () => resolve()));
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    await this.#waitReady(child);
  }

  /** SIGTERM: the service drains and closes its sockets with 1001, as in a rolling restart. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(force);
  }

  async #waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) {
        // 'exit' can come before the last of the output, which says why (such as EADDRINUSE).
        await this.#closed;
        throw new Error(`${this.name} exited with ${child.exitCode}:\n${this.#output}`);
      }
      try {
        const response = await fetch(`http://127.0.0.1:${this.port}/readyz`, { signal: AbortSignal.timeout(2_000) });
        if (response.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`${this.name} was not ready within 90 s:\n${this.#output}`);
  }
}

export interface Stack {
  secret: string;
  api: ServiceProcess;
  persister: ServiceProcess;
  gateways: [ServiceProcess, ServiceProcess];
  stop(): Promise<void>;
}

/**
 * The real services against the machine's Redis, NATS and PostgreSQL: one session-api, two
 * gateway replicas and a persister. A fresh stream and subject prefix keep this run apart from other suites.
 */
export async function startStack(allowedOrigin: string): Promise<Stack> {
  const secret = randomBytes(32).toString('hex');
  const run = randomBytes(4).toString('hex');
  const env = {
    NODE_ENV: 'test',
    JWT_SECRET: secret,
    REDIS_URL: TEST_REDIS_URL,
    NATS_URL: TEST_NATS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    NATS_STREAM: `E2E_${run}`,
    NATS_SUBJECT_PREFIX: `e2e.${run}`,
    NATS_CONSUMER: `e2e_${run}`,
    ALLOWED_ORIGINS: allowedOrigin,
    MAX_MESSAGE_CHARS: '4000',
    // The history test posts 70 messages in a row through REST.
    RATE_LIMIT_BURST: '100',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    ANALYSIS_LINK_HOSTS: 'analysis.example.com',
  };
  await migrate(env);
  // The session-api and gateways create the stream; the persister's consumer attaches to it after.
  const [api, gatewayA, gatewayB] = await Promise.all([
    ServiceProcess.startOnFreePort('session-api', 'services/session-api/src/main.ts', (port) => ({ ...env, API_PORT: String(port), INSTANCE_ID: `api-${run}` })),
    gatewayProcess('gateway-a', env, `gw-a-${run}`),
    gatewayProcess('gateway-b', env, `gw-b-${run}`),
  ]);
  const gateways: [ServiceProcess, ServiceProcess] = [gatewayA, gatewayB];
  const persister = await ServiceProcess.startOnFreePort('persister', 'services/persister/src/main.ts', (port) => ({
    ...env,
    PERSISTER_PORT: String(port),
    INSTANCE_ID: `persister-${run}`,
  }));
  return {
    secret,
    api,
    persister,
    gateways,
    stop: async () => {
      await Promise.all([api.stop(), persister.stop(), ...gateways.map((g) => g.stop())]);
      await deleteStream(env.NATS_STREAM);
    },
  };
}

function gatewayProcess(name: string, env: Record<string, string>, instanceId: string): Promise<ServiceProcess> {
  return ServiceProcess.startOnFreePort(name, 'services/gateway/src/main.ts', (port) => ({ ...env, GATEWAY_PORT: String(port), INSTANCE_ID: instanceId }));
}

/** The run's own stream goes with it, so repeated runs leave no streams behind. */
async function deleteStream(stream: string): Promise<void> {
  const nc = await connect({ servers: TEST_NATS_URL });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

async function migrate(env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, ['libs/db/src/cli.ts', 'up'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
  const code = await exitOf(child, 60_000);
  if (code !== 0) throw new Error(`migrations failed (${code}):\n${output}`);
}

/** The exit code, or "timeout" after killing a child that ran past `ms`. */
export async function exitOf(child: ChildProcess, ms: number): Promise<number | string | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve('timeout');
    }, ms);
  });
  const result = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  return result;
}
