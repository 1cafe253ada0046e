import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@chat/config';
import { CHAT_KEY_PATTERNS, purgeChatKeys, type PurgeResult } from '@chat/redis';
import { connectTarget, ready } from './redis-target.ts';

// `pnpm chat:purge-redis [--dry-run] [--yes] [--cluster] [--batch N]`: counts this system's keys
// in REDIS_URL, then deletes them when --yes is given. See docs/operating.md.
const USAGE = 'usage: pnpm chat:purge-redis [--dry-run | --yes] [--cluster] [--batch <keys per SCAN, default 500>]';

const { values } = parseArgs({
  options: {
    'dry-run': { type: 'boolean', default: false },
    yes: { type: 'boolean', default: false },
    cluster: { type: 'boolean', default: false },
    batch: { type: 'string', default: '500' },
  },
  strict: true,
});
const batchSize = Number(values.batch);
if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
  process.stderr.write(`--batch must be a whole number from 1 to 100000 (got "${values.batch}")\n${USAGE}\n`);
  process.exit(64);
}

const config = loadConfigOrExit();
const redis = connectTarget(config.redisUrl, values.cluster || config.redisCluster);
const report = (verb: string, result: PurgeResult) => {
  for (const [pattern, count] of Object.entries(result.matched)) process.stdout.write(`${verb} ${String(count)} keys matching ${pattern}\n`);
  process.stdout.write(`nodes: ${result.nodes.join(', ')}\n`);
};
try {
  await ready(redis);
  const counted = await purgeChatKeys(redis, { dryRun: true, batchSize });
  const total = Object.values(counted.matched).reduce((sum, n) => sum + n, 0);
  report('found', counted);
  if (values['dry-run'] || total === 0) {
    process.stdout.write(values['dry-run'] ? 'dry run: nothing deleted\n' : 'nothing to delete\n');
  } else if (!values.yes) {
    process.stderr.write(`refusing to delete ${String(total)} keys without --yes (patterns: ${CHAT_KEY_PATTERNS.join(' ')})\n`);
    process.exitCode = 2;
  } else {
    const purged = await purgeChatKeys(redis, {
      dryRun: false,
      batchSize,
      onBatch: (progress) => process.stderr.write(`  ${progress.node} ${progress.pattern}: ${String(progress.matched)}\n`),
    });
    process.stdout.write(`deleted ${String(purged.deleted)} keys\n`);
  }
} catch (error) {
  process.stderr.write(`purge failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  redis.disconnect();
}
