import type { describe } from '@jest/globals';
import { createConnection } from 'node:net';

export interface ServiceAddress {
  name: 'PostgreSQL' | 'Redis' | 'NATS';
  host: string;
  port: number;
  start: string;
}

export const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
export const TEST_NATS_URL = process.env['TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';

/** Host and port of a TEST_*_URL: the probe checks the server the tests will really use. */
function addressOf(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname === '' ? '127.0.0.1' : parsed.hostname, port: parsed.port === '' ? defaultPort : Number(parsed.port) };
}

export const POSTGRES: ServiceAddress = {
  name: 'PostgreSQL',
  ...addressOf(TEST_DATABASE_URL, 5432),
  start: "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start (or: docker compose up -d postgres)",
};
export const REDIS: ServiceAddress = {
  name: 'Redis',
  ...addressOf(TEST_REDIS_URL, 6379),
  start: "redis-server --daemonize yes --save '' --appendonly no (or: docker compose up -d redis)",
};
export const NATS: ServiceAddress = {
  name: 'NATS',
  ...addressOf(TEST_NATS_URL, 4222),
  start: 'nats-server -js -sd /tmp/nats (or: docker compose up -d nats)',
};

function reachable(service: ServiceAddress, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: service.host, port: service.port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Whether the real services a suite needs answer. In CI a missing service fails the run;
 * elsewhere the suite is skipped with a loud message saying how to start the service.
 */
export async function realServicesAvailable(...services: ServiceAddress[]): Promise<boolean> {
  const missing: ServiceAddress[] = [];
  for (const service of services) if (!(await reachable(service))) missing.push(service);
  if (missing.length === 0) return true;
  const lines = missing.map((s) => `  ${s.name} is not reachable at ${s.host}:${s.port}; start it with: ${s.start}`);
  const message = `Real-service tests need:\n${lines.join('\n')}`;
  if (process.env['CI']) throw new Error(message);
  console.warn(`\n*** SKIPPING real-service tests ***\n${message}\n`);
  return false;
}

/** `describe` when the services answer, `describe.skip` (after the loud message) otherwise; use with top-level await. */
export async function describeWithServices(...services: ServiceAddress[]): Promise<typeof describe | typeof describe.skip> {
  const { describe } = await import('@jest/globals');
  return (await realServicesAvailable(...services)) ? describe : describe.skip;
}
