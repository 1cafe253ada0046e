import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { isRunning, stopChild, waitForPort } from './child-process.ts';
import { candidatePort } from './ports.ts';

const node = (script: string) => spawn(process.execPath, ['-e', script], { stdio: 'ignore' });

/** A child that says `ready` once its SIGTERM handler is in place, and resolves then. */
async function withSigtermHandler(handler: string) {
  const child = spawn(process.execPath, ['-e', `process.on("SIGTERM", ${handler}); console.log("ready"); setInterval(() => {}, 1000)`], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise((resolve) => child.stdout.once('data', resolve));
  return child;
}

describe('child processes of the test support', () => {
  it('stops a child with SIGKILL by default and tells it is gone, signal or not', async () => {
    const child = node('setInterval(() => {}, 1000)');
    expect(isRunning(child)).toBe(true);
    expect(await stopChild(child)).toBeNull();
    expect(child.signalCode).toBe('SIGKILL');
    expect(isRunning(child)).toBe(false);
    // Already gone: answers at once with the same outcome.
    expect(await stopChild(child)).toBeNull();
  });

  it('gives a child its grace after SIGTERM, and SIGKILL once the grace is over', async () => {
    const polite = await withSigtermHandler('() => process.exit(3)');
    expect(await stopChild(polite, { signal: 'SIGTERM', graceMs: 5_000 })).toBe(3);
    const stubborn = await withSigtermHandler('() => {}');
    const started = Date.now();
    expect(await stopChild(stubborn, { signal: 'SIGTERM', graceMs: 200 })).toBeNull();
    expect(stubborn.signalCode).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('waits until a port accepts connections, and names what it waited for when none comes', async () => {
    const server = createServer((socket) => socket.destroy());
    const port = await candidatePort();
    setTimeout(() => server.listen(port, '127.0.0.1'), 300);
    await waitForPort(port, 'the late server');
    expect((server.address() as AddressInfo).port).toBe(port);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await expect(waitForPort(port, 'a server that never comes', 300)).rejects.toThrow(`timed out waiting for a server that never comes to listen on port ${String(port)}`);
  });
});
