import type { Cluster, Redis } from 'ioredis';

/**
 * Every key this system writes to Redis, as SCAN patterns: a session's live state, de-dup
 * buckets and presence (`sessions:{<id>}:…`, see sessionKeys), and the limiters' budgets and
 * connection leases (`limits:…`, see userRateKey). The kill switch (`chat-control:switch`) is
 * deliberately outside them, so a purge during a rollback leaves chat switched off.
 */
export const CHAT_KEY_PATTERNS: readonly string[] = ['sessions:{*', 'limits:*'];

export interface PurgeOptions {
  /** Count only; delete nothing. */
  dryRun: boolean;
  /** Keys asked for per SCAN call and deleted per pipeline (SCAN's COUNT is a hint). */
  batchSize?: number;
  patterns?: readonly string[];
  /** Called after each batch, for progress output. */
  onBatch?: (progress: PurgeProgress) => void;
}

export interface PurgeProgress {
  node: string;
  pattern: string;
  matched: number;
}

export interface PurgeResult {
  /** Keys matched per pattern, over every node. */
  matched: Record<string, number>;
  /** Keys deleted (0 on a dry run). */
  deleted: number;
  /** The nodes scanned: one for a single Redis, every master of a cluster. */
  nodes: string[];
}

/** The servers that hold keys: the one Redis, or every master of a cluster (SCAN is per node). */
export function keyHolders(redis: Redis | Cluster): Redis[] {
  return 'nodes' in redis && typeof redis.nodes === 'function' && redis.isCluster ? redis.nodes('master') : [redis as Redis];
}

function nodeName(node: Redis): string {
  return `${node.options.host ?? '?'}:${String(node.options.port ?? '?')}`;
}

/**
 * Deletes (or, on a dry run, counts) this system's keys with SCAN in batches, node by node, so
 * Redis never blocks on a KEYS and a cluster is covered master by master. Keys are unlinked one
 * by one in a pipeline: a multi-key DEL would fail across cluster slots.
 */
export async function purgeChatKeys(redis: Redis | Cluster, options: PurgeOptions): Promise<PurgeResult> {
  const batchSize = options.batchSize ?? 500;
  const patterns = options.patterns ?? CHAT_KEY_PATTERNS;
  const matched: Record<string, number> = Object.fromEntries(patterns.map((pattern) => [pattern, 0]));
  const nodes = keyHolders(redis);
  let deleted = 0;
  for (const node of nodes) {
    for (const pattern of patterns) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', batchSize);
        cursor = next;
        matched[pattern] = (matched[pattern] ?? 0) + keys.length;
        if (!options.dryRun && keys.length > 0) deleted += await unlinkAll(node, keys);
        options.onBatch?.({ node: nodeName(node), pattern, matched: matched[pattern] ?? 0 });
      } while (cursor !== '0');
    }
  }
  return { matched, deleted, nodes: nodes.map(nodeName) };
}

async function unlinkAll(node: Redis, keys: readonly string[]): Promise<number> {
  const pipeline = node.pipeline();
  for (const key of keys) pipeline.unlink(key);
  const replies = (await pipeline.exec()) ?? [];
  let count = 0;
  for (const [error, reply] of replies) {
    if (error) throw error;
    count += Number(reply);
  }
  return count;
}
