export { JetStreamQueue, type JetStreamQueueOptions } from './jetstream-queue.ts';
export { JetStreamQueueConsumer, type JetStreamConsumerOptions } from './jetstream-consumer.ts';
export { ensureStream, sessionSubject, type StreamOptions } from './jetstream-stream.ts';
export { JetStreamSessionEvents, sessionEventStream } from './jetstream-session-events.ts';
export { GroupedPublisher, PublishNotSentError, PublishRefusedError, type PubAckReply } from './grouped-publisher.ts';
