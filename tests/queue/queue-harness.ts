import { randomUUID } from 'node:crypto';
import { MemoryQueue, type MessageQueue, type QueueConsumer } from '@chat/core';
import { JetStreamQueue, JetStreamQueueConsumer } from '@chat/jetstream';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { NATS, realServicesAvailable, TEST_NATS_URL } from '../support/services.ts';

export const NATS_URL = TEST_NATS_URL;

export interface QueueHarness {
  queue: MessageQueue;
  /** Consumers made by one harness share a single durable cursor. */
  consumer: (batchSize: number) => Promise<QueueConsumer>;
  dispose: () => Promise<void>;
}

export interface QueueBackend {
  name: string;
  available: boolean;
  open(options?: { ackWaitMs?: number }): Promise<QueueHarness>;
}

/** A stream and subject prefix of its own, deleted on dispose, so suites never see each other's messages. */
export function randomStream(): { stream: string; subjectPrefix: string } {
  const suffix = randomUUID().replaceAll('-', '');
  return { stream: `TEST_${suffix}`, subjectPrefix: `test.${suffix}` };
}

export async function deleteStream(stream: string, natsUrl = NATS_URL): Promise<void> {
  const nc = await connect({ servers: natsUrl });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

/** The persister's tuning: no-wait pulls every lingerMs, several batches in flight. */
const PULLING = { inFlight: 2, lingerMs: 20 } as const;

async function openJetStream(ackWaitMs: number | undefined, tuning: { inFlight?: number; lingerMs?: number } = {}): Promise<QueueHarness> {
  const names = randomStream();
  const options = { ...names, replicas: 1 };
  const queue = await JetStreamQueue.create(await connect({ servers: NATS_URL }), options);
  const consumerConnection = await connect({ servers: NATS_URL });
  return {
    queue,
    consumer: (batchSize) =>
      JetStreamQueueConsumer.create(consumerConnection, { ...options, ...tuning, consumer: 'persister', batchSize, ...(ackWaitMs === undefined ? {} : { ackWaitMs }) }),
    dispose: async () => {
      await queue.close();
      await consumerConnection.close();
      await deleteStream(names.stream);
    },
  };
}

function openMemory(ackWaitMs: number | undefined): Promise<QueueHarness> {
  const queue = new MemoryQueue();
  return Promise.resolve({
    queue,
    consumer: (batchSize) => Promise.resolve(queue.consumer({ batchSize, ...(ackWaitMs === undefined ? {} : { ackWaitMs }) })),
    dispose: () => queue.close(),
  });
}

export async function queueBackends(): Promise<QueueBackend[]> {
  const natsUp = await realServicesAvailable(NATS);
  return [
    { name: 'JetStream', available: natsUp, open: (options) => openJetStream(options?.ackWaitMs) },
    { name: 'JetStream with no-wait pulls', available: natsUp, open: (options) => openJetStream(options?.ackWaitMs, PULLING) },
    { name: 'memory', available: true, open: (options) => openMemory(options?.ackWaitMs) },
  ];
}
