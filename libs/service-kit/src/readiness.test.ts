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

  it('stays ready when one probe misses the timeout and the next, asked at once, is answered', async () => {
    let calls = 0;
    const readiness = new Readiness({ timeoutMs: 20 }).add('redis', () => (++calls === 1 ? new Promise(() => undefined) : Promise.resolve('PONG')));
    await expect(readiness.report()).resolves.toEqual({ ready: true, checks: { redis: { ok: true } } });
    expect(calls).toBe(2);
  });

  it('counts a first answer that comes late while the next probe waits', async () => {
    let calls = 0;
    const slowPong = () => new Promise((resolve) => setTimeout(() => resolve('PONG'), 150));
    const readiness = new Readiness({ timeoutMs: 100 }).add('redis', () => (++calls === 1 ? slowPong() : new Promise(() => undefined)));
    expect((await readiness.report()).ready).toBe(true);
  });

  it('is not ready when every probe in a row fails, and says the last error', async () => {
    let calls = 0;
    const readiness = new Readiness({ probes: 3 }).add('nats', () => Promise.reject(new Error(`refused ${++calls}`)));
    const report = await readiness.report();
    expect(report).toEqual({ ready: false, checks: { nats: { ok: false, error: 'refused 3' } } });
    expect(calls).toBe(3);
  });

  it('with one probe, one failure is enough', async () => {
    let calls = 0;
    const readiness = new Readiness({ timeoutMs: 20, probes: 1 }).add('redis', () => (++calls === 1 ? new Promise(() => undefined) : Promise.resolve()));
    expect((await readiness.report()).ready).toBe(false);
  });
});
