import { Socket } from 'node:net';

const hints: Record<string, string> = {
  PostgreSQL: 'start it with `docker compose -f deploy/docker-compose.yml up -d postgres` or your local PostgreSQL service',
  Redis: 'start it with `docker compose -f deploy/docker-compose.yml up -d redis` or `redis-server`',
  NATS: 'start it with `docker compose -f deploy/docker-compose.yml up -d nats` or `nats-server -js`',
};

function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, host);
  });
}

/**
 * Whether a real service the suite needs is reachable. Under CI an unreachable service fails
 * the suite; elsewhere the suite may skip, after saying loudly what is missing.
 */
export async function requireService(name: string, host: string, port: number): Promise<boolean> {
  if (await canConnect(host, port, 2_000)) return true;
  const message = `${name} is not reachable at ${host}:${port}; ${hints[name] ?? `start ${name}`}.`;
  if (process.env['CI']) throw new Error(message);
  console.warn(`\n*** SKIPPING: ${message} ***\n`);
  return false;
}
