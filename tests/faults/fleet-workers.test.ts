import { describe, expect, it } from '@jest/globals';
import { FleetWorker } from './fleet-workers.ts';

describe('FleetWorker', () => {
  it('answers requests and passes a refusal on as an error', async () => {
    const worker = new FleetWorker();
    try {
      expect(typeof (await worker.request<number>({ kind: 'loop-delay', reset: true }))).toBe('number');
      await expect(worker.request({ kind: 'unsettled', phase: 0 })).rejects.toThrow('no clients opened');
    } finally {
      worker.stop();
    }
    await expect(worker.request({ kind: 'loop-delay', reset: false })).rejects.toThrow('the client process was let go');
  }, 30_000);

  it('rejects requests once its process died, instead of waiting for ever', async () => {
    const worker = new FleetWorker();
    await worker.request({ kind: 'loop-delay', reset: true });
    process.kill(worker.pid!, 'SIGKILL');
    await expect(
      (async () => {
        for (;;) {
          await worker.request({ kind: 'loop-delay', reset: false });
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })(),
    ).rejects.toThrow(/a client process exited \(SIGKILL\)|channel closed|EPIPE/i);
    worker.stop();
  }, 30_000);
});
