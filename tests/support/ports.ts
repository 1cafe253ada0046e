import { createServer, type AddressInfo } from 'node:net';

/**
 * A port the OS reports free right now. It is released before the caller binds it, so another
 * process may take it first: use it through onFreePort, which tries again when that happens.
 */
export function candidatePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a failure says the port was taken (by the error code, or in a child process's output). */
export function isPortClash(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'EADDRINUSE') return true;
  return /EADDRINUSE|address already in use/i.test(error instanceof Error ? error.message : String(error));
}

/** Starts something on a free port, and again on another one when the port was taken in between. */
export async function onFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await candidatePort();
    try {
      return await start(port);
    } catch (error) {
      if (attempt >= attempts || !isPortClash(error)) throw error;
    }
  }
}

/**
 * An address where nothing will answer: a port this process keeps bound and hangs up on every
 * connection to, so no other process can start a server there while a test relies on it.
 */
export async function refusingPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
