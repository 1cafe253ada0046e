import { describe, expect, it } from '@jest/globals';
import { Readiness } from './readiness.ts';

describe('Readiness', () => {
  it('is ready when every check answers', async () => {
    const readiness = new Readiness().add('redis', () => Promise.resolve('PONG'));
    await expect(readiness.report()).resolves.toEqual({ ready: true, checks: { redis: { ok: true } } });
  });

  it('is not ready when a check fails, and names it', async () => {
    const readiness = new Readiness().add('redis', () => Promise.resolve()).add('nats', () => Promise.reject(new Error('connection refused')));
    const report = await readiness.report();
    expect(report.ready).toBe(false);
    expect(report.checks['nats']).toEqual({ ok: false, error: 'connection refused' });
  });

  it('is not ready when a check hangs past the timeout', async () => {
    const readiness = new Readiness({ timeoutMs: 20 }).add('postgres', () => new Promise(() => undefined));
    const report = await readiness.report();
    expect(report.ready).toBe(false);
    expect(report.checks['postgres']?.error).toMatch(/no answer within 20 ms/);
  });

  it('is not ready while draining even if dependencies answer', async () => {
    const readiness = new Readiness().add('redis', () => Promise.resolve());
    readiness.drain();
    expect((await readiness.report()).ready).toBe(false);
  });
});
