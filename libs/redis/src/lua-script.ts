import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-connection.ts';

/**
 * A Lua script sent by its SHA1 (EVALSHA), and in full only when a server does not know it yet
 * (after a restart, or on a cluster node it has not run on): a call carries ~40 bytes, not the source.
 */
export class LuaScript {
  readonly source: string;
  readonly sha: string;

  constructor(source: string) {
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  run(redis: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    return this.call(redis, keys.length, [...keys, ...args]);
  }

  /** Like run, with the keys first in one list, as ioredis's `defineCommand` methods take them. */
  async call(redis: RedisClient, numberOfKeys: number, keysAndArgs: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, numberOfKeys, ...keysAndArgs);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await redis.eval(this.source, numberOfKeys, ...keysAndArgs);
    }
  }
}
