import { describe, it, expect } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceProcess, ServiceStartError, startOnFreePort } from './service-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'service-process-'));

function script(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

describe('ServiceProcess', () => {
  const listener = script('listen.mjs', "import { createServer } from 'node:http'; createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');");

  it('returns once the service answers its readiness URL, and stops it on request', async () => {
    const { port, service } = await startOnFreePort((candidate) => ({ name: 'ready', script: listener, cwd: dir, env: { PORT: String(candidate) }, readyUrl: `http://127.0.0.1:${candidate}/readyz`, logFile: join(dir, 'ready.log') }));
    expect(service.running).toBe(true);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
    await service.stop();
    expect(service.running).toBe(false);
  });

  it('starts the service on another port when its first one was taken before it could bind it', async () => {
    const tried: number[] = [];
    let squatter: Server | undefined;
    const { port, service } = await startOnFreePort(async (candidate) => {
      tried.push(candidate);
      // Another process takes the first port in between, as can happen on a shared machine.
      if (tried.length === 1) {
        // It hangs up on every connection, so the readiness probe is refused and closing it waits for nothing.
        const server = createServer((socket) => socket.destroy());
        squatter = server;
        await new Promise<void>((resolve) => server.listen(candidate, '127.0.0.1', resolve));
      }
      return { name: 'retried', script: listener, cwd: dir, env: { PORT: String(candidate) }, readyUrl: `http://127.0.0.1:${candidate}/readyz`, logFile: join(dir, 'retried.log'), readyTimeoutMs: 10_000 };
    });
    try {
      expect(tried).toHaveLength(2);
      expect(port).toBe(tried[1]);
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
    } finally {
      await service.stop();
      await new Promise((resolve) => squatter?.close(resolve));
    }
  });

  it('names the service and its log when it exits during start-up', async () => {
    const path = script('crash.mjs', "console.error('DATABASE_URL is invalid'); process.exit(1);");
    const logFile = join(dir, 'crash.log');
    const start = ServiceProcess.start({ name: 'crash', script: path, cwd: dir, env: {}, readyUrl: 'http://127.0.0.1:1/readyz', logFile, readyTimeoutMs: 10_000 });
    await expect(start).rejects.toThrow(ServiceStartError);
    await expect(start).rejects.toThrow(`crash exited during start-up (exit 1); see ${logFile}`);
  });
});
