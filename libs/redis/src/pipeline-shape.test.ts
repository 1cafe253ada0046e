import { describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';

/**
 * patches/ioredis@6.0.0.patch: unpatched, each pipeline defined `length` on itself with a closure
 * of its own, and every auto-pipeline batch (its commands and replies) survived each scavenge
 * until a full collection: 8-24 ms young-generation pauses in the gateway at 1,000 sends/s.
 */
describe('ioredis pipelines', () => {
  const redis = new Redis({ lazyConnect: true, enableOfflineQueue: false });

  it('take length from the prototype, not from a property of each instance', () => {
    const pipeline = redis.pipeline();
    expect(Object.getOwnPropertyDescriptor(pipeline, 'length')).toBeUndefined();
    expect(typeof Object.getOwnPropertyDescriptor(Object.getPrototypeOf(pipeline), 'length')?.get).toBe('function');
  });

  it('still count the commands queued', () => {
    const pipeline = redis.pipeline();
    expect(pipeline.length).toBe(0);
    pipeline.get('a').set('b', '1').incr('c');
    expect(pipeline.length).toBe(3);
    expect(redis.pipeline().length).toBe(0);
  });
});
