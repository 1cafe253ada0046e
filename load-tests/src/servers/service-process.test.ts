import { describe, it, expect } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, ServiceProcess, ServiceStartError } from './service-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'service-process-'));

function script(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

describe('ServiceProcess', () => {
  it('returns once the service answers its readiness URL, and stops it on request', async () => {
    const port = await freePort();
    const path = script('ready.mjs', `import { createServer } from 'node:http'; createServer((q, r) => r.end('ok')).listen(${port}, '127.0.0.1');`);
    const service = await ServiceProcess.start({ name: 'ready', script: path, cwd: dir, env: {}, readyUrl: `http://127.0.0.1:${port}/readyz`, logFile: join(dir, 'ready.log') });
    expect(service.running).toBe(true);
    await service.stop();
    expect(service.running).toBe(false);
  });

  it('names the service and its log when it exits during start-up', async () => {
    const path = script('crash.mjs', "console.error('DATABASE_URL is invalid'); process.exit(1);");
    const logFile = join(dir, 'crash.log');
    const start = ServiceProcess.start({ name: 'crash', script: path, cwd: dir, env: {}, readyUrl: 'http://127.0.0.1:1/readyz', logFile, readyTimeoutMs: 10_000 });
    await expect(start).rejects.toThrow(ServiceStartError);
    await expect(start).rejects.toThrow(`crash exited during start-up (exit 1); see ${logFile}`);
  });
});
