import { afterAll, beforeAll, describe as plainDescribe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { MemoryConnectionSlots, type ConnectionSlots, type SlotClaim } from '@chat/core';
import { hashSlot, RedisConnectionSlots } from '@chat/redis';
import { OwnRedisCluster } from '../support/own-redis-cluster.ts';
import { describeWithServices, REDIS, TEST_REDIS_URL } from '../support/services.ts';

const describe = await describeWithServices(REDIS);

// A cluster of this suite's own, on ports 29141-29143 (buses 30141-30143).
const cluster = new OwnRedisCluster(29141);

let now = 1_000_000;
const replicas: RedisConnectionSlots[] = [];
const clustered: RedisConnectionSlots[] = [];

beforeAll(async () => {
  // Two replicas' views of the same Redis, on a clock the test moves.
  for (let i = 0; i < 2; i++) replicas.push(new RedisConnectionSlots({ url: TEST_REDIS_URL, ttlMs: 30_000, now: () => now }));
  await cluster.start();
  for (let i = 0; i < 2; i++) clustered.push(new RedisConnectionSlots({ url: cluster.url, cluster: true, ttlMs: 30_000, now: () => now }));
}, 60_000);

afterAll(async () => {
  await Promise.all([...replicas, ...clustered].map((replica) => replica.close()));
  await cluster.stop();
});

/** The gateway's two keys for one connection: different hash tags, so different cluster slots. */
function capKeys(): { user: string; ip: string } {
  return { user: `limits:connections:user:{test-${randomUUID()}}`, ip: `limits:connections:ip:{10.${String(Math.floor(Math.random() * 250))}.${randomUUID()}}` };
}

/** Two replicas' views of one count (for memory, one process's twice). */
const implementations: [string, () => [ConnectionSlots, ConnectionSlots]][] = [
  [
    'memory',
    () => {
      const one = new MemoryConnectionSlots();
      return [one, one];
    },
  ],
  ['Redis', () => requirePair(replicas)],
  ['Redis Cluster', () => requirePair(clustered)],
];

function requirePair(pair: RedisConnectionSlots[]): [RedisConnectionSlots, RedisConnectionSlots] {
  const [a, b] = pair;
  if (!a || !b) throw new Error('the Redis slots are not set up');
  return [a, b];
}

describe.each(implementations)('ConnectionSlots.acquireAll on %s', (_name, make) => {
  it('takes a slot under every key at once, or none when one key is full, counted across replicas', async () => {
    const [slots, other] = make();
    const { user, ip } = capKeys();
    const claims: SlotClaim[] = [
      { key: user, max: 2 },
      { key: ip, max: 1 },
    ];
    expect(await slots.acquireAll('c1', claims)).toBe(true);
    // The address is full: nothing is taken under the user either.
    expect(await other.acquireAll('c2', claims)).toBe(false);
    expect(await other.acquireAll('c3', [{ key: user, max: 2 }])).toBe(true);
    expect(await slots.acquireAll('c4', [{ key: user, max: 2 }])).toBe(false);
    // A holder already counted keeps its slot when it claims again.
    expect(await slots.acquireAll('c1', claims)).toBe(true);
    await slots.release(ip, 'c1');
    // The user is full now: nothing is taken under the address.
    expect(await other.acquireAll('c5', claims)).toBe(false);
    await other.release(user, 'c3');
    expect(await other.acquireAll('c5', claims)).toBe(true);
    for (const holder of ['c1', 'c5']) for (const key of [user, ip]) await slots.release(key, holder);
  });

  it('refuses every claim under a cap of zero and takes nothing for an empty claim list', async () => {
    const [slots] = make();
    const { user, ip } = capKeys();
    expect(await slots.acquireAll('c1', [{ key: user, max: 0 }])).toBe(false);
    expect(await slots.acquireAll('c1', [])).toBe(true);
    expect(await slots.acquireAll('c2', [{ key: user, max: 1 }, { key: ip, max: 0 }])).toBe(false);
    expect(await slots.acquireAll('c3', [{ key: user, max: 1 }])).toBe(true);
    await slots.release(user, 'c3');
  });

  it('keeps a slot the holder had before when a claim across it is refused', async () => {
    const [slots, other] = make();
    const { user, ip } = capKeys();
    expect(await slots.acquireAll('c1', [{ key: user, max: 1 }])).toBe(true);
    // Refused under the address: the user slot c1 already had is not given back with it.
    expect(await slots.acquireAll('c1', [{ key: ip, max: 0 }, { key: user, max: 1 }])).toBe(false);
    expect(await other.acquireAll('c2', [{ key: user, max: 1 }])).toBe(false);
    await slots.release(user, 'c1');
  });

  it('answers as one process counting alone would, for any order of claims and releases', async () => {
    const steps = fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('acquire' as const), holder: fc.integer({ min: 0, max: 5 }), keys: fc.subarray([0, 1, 2], { minLength: 1 }), max: fc.integer({ min: 0, max: 3 }) }),
        fc.record({ op: fc.constant('release' as const), holder: fc.integer({ min: 0, max: 5 }), key: fc.integer({ min: 0, max: 2 }) }),
      ),
      { maxLength: 25 },
    );
    await fc.assert(
      fc.asyncProperty(steps, async (script) => {
        const [slots] = make();
        const model = new MemoryConnectionSlots();
        const { user, ip } = capKeys();
        const keys = [user, ip, `${user}:other`];
        const held = new Set<string>();
        for (const step of script) {
          if (step.op === 'release') {
            const key = keys[step.key] ?? user;
            await Promise.all([slots.release(key, `h${String(step.holder)}`), model.release(key, `h${String(step.holder)}`)]);
            held.delete(`${key} h${String(step.holder)}`);
            continue;
          }
          const claims = step.keys.map((i) => ({ key: keys[i] ?? user, max: step.max }));
          const holder = `h${String(step.holder)}`;
          expect(await slots.acquireAll(holder, claims)).toBe(await model.acquireAll(holder, claims));
          for (const claim of claims) held.add(`${claim.key} ${holder}`);
        }
        for (const entry of held) {
          const [key = '', holder = ''] = entry.split(' ');
          await slots.release(key, holder);
        }
      }),
      { numRuns: Number(process.env['FUZZ_RUNS'] ?? 30), ...(process.env['FUZZ_SEED'] ? { seed: Number(process.env['FUZZ_SEED']) } : {}) },
    );
  });
});

plainDescribe('the gateway\'s cap keys', () => {
  it('fall in different cluster slots for almost every user and address, so cluster mode claims them in two calls', () => {
    const apart = Array.from({ length: 100 }, capKeys).filter(({ user, ip }) => hashSlot(user) !== hashSlot(ip));
    expect(apart.length).toBeGreaterThan(95);
  });
});

describe('RedisConnectionSlots (finding 3)', () => {
  it('counts one user across replicas, gives a slot back on release, and lets a crashed replica lease lapse', async () => {
    const [a, b] = replicas;
    if (!a || !b) throw new Error('two replicas expected');
    const key = `limits:connections:user:{test-${randomUUID()}}`;
    expect(await a.acquire(key, 'c1', 2)).toBe(true);
    expect(await b.acquire(key, 'c2', 2)).toBe(true);
    expect(await b.acquire(key, 'c3', 2)).toBe(false);
    await a.release(key, 'c1');
    expect(await b.acquire(key, 'c3', 2)).toBe(true);
    // c2's replica stops refreshing (crashed); c3's keeps refreshing.
    now += 20_000;
    await b.refresh(new Map([[key, ['c3']]]));
    now += 20_000;
    expect(await a.acquire(key, 'c4', 2)).toBe(true);
    expect(await a.acquire(key, 'c5', 2)).toBe(false);
    for (const holder of ['c3', 'c4']) await a.release(key, holder);
  });

  it('lets a lease taken by acquireAll lapse under every key when its replica stops refreshing', async () => {
    const [a, b] = replicas;
    if (!a || !b) throw new Error('two replicas expected');
    const { user, ip } = capKeys();
    expect(await a.acquireAll('c1', [{ key: user, max: 1 }, { key: ip, max: 1 }])).toBe(true);
    expect(await b.acquireAll('c2', [{ key: ip, max: 1 }])).toBe(false);
    now += 70_000;
    expect(await b.acquireAll('c2', [{ key: user, max: 1 }, { key: ip, max: 1 }])).toBe(true);
    for (const key of [user, ip]) await b.release(key, 'c2');
  });
});

describe.each([
  ['Redis', () => requirePair(replicas)],
  ['Redis Cluster', () => requirePair(clustered)],
] as const)('RedisConnectionSlots.refresh on %s', (_name, make) => {
  it('extends the leases of open connections over many keys and a shared one, and lets the others lapse', async () => {
    const [a, b] = make();
    const address = capKeys().ip;
    // 600 connections of 600 users behind one address: more keys than one refresh script takes.
    const open = Array.from({ length: 600 }, (_, i) => ({ user: capKeys().user, holder: `open-${String(i)}` }));
    for (const { user, holder } of open) expect(await a.acquireAll(holder, [{ key: user, max: 1 }, { key: address, max: 700 }])).toBe(true);
    // Their replica crashed: these two are never refreshed.
    const crashed = [{ user: capKeys().user, holder: 'crashed-1' }, { user: capKeys().user, holder: 'crashed-2' }];
    for (const { user, holder } of crashed) expect(await b.acquireAll(holder, [{ key: user, max: 1 }, { key: address, max: 700 }])).toBe(true);
    now += 20_000;
    await a.refresh(new Map([...open.map(({ user, holder }): [string, string[]] => [user, [holder]]), [address, open.map(({ holder }) => holder)]]));
    now += 20_000;
    // 600 still held under the address, the two crashed ones gone: exactly 100 more fit under a cap of 700.
    const more = Array.from({ length: 101 }, (_, i) => `more-${String(i)}`);
    const taken = [];
    for (const holder of more) taken.push(await b.acquireAll(holder, [{ key: address, max: 700 }]));
    expect(taken.filter(Boolean)).toHaveLength(100);
    for (const { user, holder } of open) expect(await b.acquireAll(`other-${holder}`, [{ key: user, max: 1 }])).toBe(false);
    for (const { user } of crashed) expect(await b.acquireAll('other', [{ key: user, max: 1 }])).toBe(true);
  });

  it('refuses a holder with whitespace, which its one argument of holders could not carry', async () => {
    const [a] = make();
    const key = capKeys().user;
    expect(await a.acquire(key, 'two words', 1)).toBe(true);
    await expect(a.refresh(new Map([[key, ['two words']]]))).rejects.toThrow(/without whitespace/);
    await a.release(key, 'two words');
  });
});
