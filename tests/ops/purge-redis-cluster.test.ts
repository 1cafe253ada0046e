import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sessionKeys } from '@chat/redis';
import { Cluster } from 'ioredis';
import { OwnRedisCluster } from '../support/own-redis-cluster.ts';
import { runCli } from './cli.ts';

// A cluster of this suite's own, on ports 29131-29133 (buses 30131-30133).
const cluster = new OwnRedisCluster(29131);

describe('pnpm chat:purge-redis --cluster', () => {
  let client: Cluster;

  beforeAll(async () => {
    await cluster.start();
    client = new Cluster([{ host: '127.0.0.1', port: cluster.ports[0]! }]);
  }, 60_000);

  afterAll(async () => {
    client.disconnect();
    await cluster.stop();
  });

  it('deletes this system\'s keys on every master and leaves other keys alone', async () => {
    const sessions = Array.from({ length: 60 }, () => randomUUID());
    for (const id of sessions) {
      const keys = sessionKeys(id);
      await client.hset(keys.metadata, 'seq', '3');
      await client.sadd(keys.users, randomUUID());
      await client.rpush(keys.messages, '{}');
    }
    await client.set('limits:messages:user:{someone}', '1');
    for (let i = 0; i < 20; i++) await client.set(`another-app:${String(i)}`, '1');
    const countOn = async (pattern: string) => {
      let total = 0;
      for (const node of client.nodes('master')) total += (await node.keys(pattern)).length;
      return total;
    };
    // The keys are spread over the masters: a purge of one node would miss some.
    const perNode = await Promise.all(client.nodes('master').map(async (node) => (await node.keys('sessions:{*')).length));
    expect(perNode.filter((n) => n > 0).length).toBe(3);

    const env = { REDIS_URL: `redis://127.0.0.1:${String(cluster.ports[1])}` };
    const dry = await runCli('apps/ops/src/purge-redis-cli.ts', ['--cluster', '--dry-run'], env);
    expect(dry.stdout).toContain('found 180 keys matching sessions:{*');
    expect(dry.stdout).toContain('found 1 keys matching limits:*');
    expect(dry.stdout.match(/nodes: (.*)/)?.[1]?.split(', ')).toHaveLength(3);
    expect(await countOn('sessions:{*')).toBe(180);

    const done = await runCli('apps/ops/src/purge-redis-cli.ts', ['--cluster', '--yes', '--batch', '7'], env);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('deleted 181 keys');
    expect(await countOn('sessions:{*')).toBe(0);
    expect(await countOn('limits:*')).toBe(0);
    expect(await countOn('another-app:*')).toBe(20);
  }, 60_000);
});
