import type { InfraUrls, QueueNames } from './servers/chat-system.ts';
import type { MemberSpec } from './generator/protocol.ts';
import type { BenchSession } from './api-client.ts';
import type { Profile } from './profile.ts';
import type { TokenSigner } from './tokens.ts';

/** What every scenario gets from the runner. */
export interface BenchContext {
  profile: Profile;
  repoRoot: string;
  runId: string;
  runDir: string;
  logDir: string;
  secret: string;
  signer: TokenSigner;
  infra: InfraUrls;
  log(line: string): void;
}

/** Per-scenario stream, subjects and consumer, so no run or test shares a queue with another. */
export function queueNames(runId: string, scenario: string): QueueNames {
  const tag = `${runId}_${scenario}`.replace(/[^A-Za-z0-9_]/g, '_');
  return { stream: `BENCH_${tag}`, subjectPrefix: `bench.${tag}`, consumer: `bench_${tag}` };
}

/**
 * Spreads members so that each session has members on every target and every load
 * generator, and rotates loopback source addresses: one source address gives only
 * ~28,000 ephemeral ports towards one server port.
 */
export function assignMembers(sessions: readonly BenchSession[], targets: readonly string[], workers: number): MemberSpec[][] {
  const perWorker: MemberSpec[][] = Array.from({ length: workers }, () => []);
  let index = 0;
  sessions.forEach((session, s) => {
    session.members.forEach((userId, j) => {
      const target = targets[j % targets.length] ?? '';
      // Consecutive members alternate targets; each group of one-per-target goes to the next generator.
      const worker = (Math.floor(j / Math.max(1, targets.length)) + s) % workers;
      perWorker[worker]?.push({ sessionId: session.id, userId, target, localAddress: `127.0.0.${1 + (index % 4)}` });
      index++;
    });
  });
  return perWorker;
}

export function sumRecords(records: readonly Record<string, number>[]): Record<string, number> {
  const total: Record<string, number> = {};
  for (const record of records) for (const [key, value] of Object.entries(record)) total[key] = (total[key] ?? 0) + value;
  return total;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
