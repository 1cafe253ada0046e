import { describe, it, expect } from '@jest/globals';
import { memoryLimitBytes } from './runtime-metrics.ts';

const GiB = 1024 ** 3;

describe('the memory limit the memory alert divides by', () => {
  it('is the cgroup limit when the process has one below the machine total', () => {
    expect(memoryLimitBytes(2 * GiB, 24 * GiB)).toBe(2 * GiB);
  });

  it('is the machine total when there is no cgroup limit (Node reports 0)', () => {
    expect(memoryLimitBytes(0, 24 * GiB)).toBe(24 * GiB);
  });

  it('is the machine total when the cgroup limit is "max" (Node reports a huge number)', () => {
    expect(memoryLimitBytes(2 ** 62, 24 * GiB)).toBe(24 * GiB);
  });
});
