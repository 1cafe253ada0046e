/** The queue could not take a message durably (NATS unreachable, no PubAck, queue closed). */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
}
