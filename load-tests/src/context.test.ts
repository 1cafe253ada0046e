import { describe, it, expect } from '@jest/globals';
import { assignMembers, queueNames } from './context.ts';

const sessions = [0, 1, 2].map((s) => ({ id: `s${s}`, members: [0, 1, 2, 3].map((m) => `u${s}${m}`) }));

describe('assignMembers', () => {
  it('puts every session on every target and every load generator', () => {
    const perWorker = assignMembers(sessions, ['ws://a', 'ws://b'], 2);
    for (const session of sessions) {
      const seats = perWorker.flatMap((members, worker) => members.filter((m) => m.sessionId === session.id).map((m) => `${worker}${m.target}`));
      expect(new Set(seats)).toEqual(new Set(['0ws://a', '0ws://b', '1ws://a', '1ws://b']));
    }
  });

  it('seats each member exactly once and rotates loopback source addresses', () => {
    const all = assignMembers(sessions, ['ws://a'], 3).flat();
    expect(all).toHaveLength(12);
    expect(new Set(all.map((m) => m.userId)).size).toBe(12);
    expect(new Set(all.map((m) => m.localAddress))).toEqual(new Set(['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']));
  });
});

describe('queueNames', () => {
  it('gives each run and scenario a stream, subject prefix and consumer of its own in the allowed alphabet', () => {
    const names = queueNames('20260101T000000_abc123', 'persist');
    expect(names.stream).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(names.subjectPrefix).toMatch(/^[A-Za-z0-9_.-]+$/);
    expect(names.consumer).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(queueNames('20260101T000000_abc123', 'ack').stream).not.toBe(names.stream);
  });
});
