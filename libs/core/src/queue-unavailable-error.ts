/** The queue could not take a message durably (NATS unreachable, no PubAck, queue closed). */
export class QueueUnavailableError extends Error {
  override readonly name = 'QueueUnavailableError';
  /**
   * The message never left this process (the connection was known to be down when it was to be
   * written): it cannot be in the queue, so its seq needs no seal.
   */
  readonly unsent: boolean;

  constructor(message: string, options: ErrorOptions & { unsent?: boolean } = {}) {
    super(message, options);
    this.unsent = options.unsent === true;
  }
}
