import { describe, expect, it } from '@jest/globals';
import { Readiness } from '@chat/service-kit';
import { createLogger } from '@chat/telemetry';
import { ApiServer } from './api-server.ts';

/** Resolves when the slow request has reached the handler. */
let arrived: () => void = () => undefined;

/** /slow answers after 300 ms, /never only when the test ends; anything else at once. */
function slowServer(readiness: Readiness, graceMs: number): ApiServer {
  return new ApiServer({
    handler: (req, res) => {
      if (req.url === '/never') {
        arrived();
        return;
      }
      const delay = req.url === '/slow' ? 300 : 0;
      if (delay > 0) arrived();
      setTimeout(() => res.end('done'), delay);
    },
    host: '127.0.0.1',
    port: 0,
    readiness,
    graceMs,
    logger: createLogger('session-api', 'silent'),
  });
}

describe('ApiServer', () => {
  it('turns not ready on stop and lets a request in flight finish before closing', async () => {
    const readiness = new Readiness();
    const server = slowServer(readiness, 5_000);
    await server.start();
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const inFlight = fetch(`http://127.0.0.1:${server.port}/slow`).then((res) => res.text());
    await reached;

    await server.stop();

    expect(readiness.draining).toBe(true);
    expect(await inFlight).toBe('done');
    await expect(fetch(`http://127.0.0.1:${server.port}/fast`)).rejects.toThrow();
  });

  it('cuts requests that outlast the grace period, after waiting the grace period for them', async () => {
    // A request that is never answered: only the grace period can end the stop, so a stop that waited
    // for it would time the test out, and one that cut at once would return before the grace period.
    const server = slowServer(new Readiness(), 200);
    await server.start();
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    const inFlight = fetch(`http://127.0.0.1:${server.port}/never`).then(
      () => 'answered',
      () => 'cut',
    );
    await reached;
    const started = performance.now();
    await server.stop();
    // Node may fire a timer up to a millisecond before its nominal time.
    expect(performance.now() - started).toBeGreaterThanOrEqual(199);
    expect(await inFlight).toBe('cut');
  });
});
