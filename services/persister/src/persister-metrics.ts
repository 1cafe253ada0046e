import type { ChatMetrics } from '@chat/telemetry';
import type { PersisterMetrics } from './persister.ts';

/** The persister's measurements recorded as the catalogue's instruments, for every process that runs one. */
export function persisterMetrics(metrics: ChatMetrics): PersisterMetrics & { pending(count: number): void; deadLettersOpen(count: number): void } {
  return {
    batchWritten: (size, inserted) => {
      metrics.persisterBatchSize.record(size);
      metrics.messagesPersisted.add(inserted);
    },
    lag: (seconds) => metrics.persistLag.record(seconds),
    pending: (count) => metrics.persisterPending.record(count),
    deadLettered: (reason) => metrics.deadLetters.add(1, { reason }),
    deadLettersOpen: (count) => metrics.deadLettersOpen.record(count),
  };
}
