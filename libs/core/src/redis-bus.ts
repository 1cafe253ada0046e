import type { Redis } from 'ioredis';
import type { Bus } from './ports.ts';
import { closeRedis, connectRedis, type RedisConnectionOptions } from './redis-connection.ts';

/** The pub/sub channel of one session; braces as in the other keys, so it maps to the session's slot. */
export function sessionChannel(sessionId: string): string {
  return `sessions:{${sessionId}}:events`;
}

/**
 * Fan-out between replicas over Redis sharded pub/sub (SPUBLISH/SSUBSCRIBE: in Redis Cluster a
 * session's events stay on the shard that owns its slot instead of being broadcast to every node).
 * One publisher and one subscriber connection per process; ioredis resubscribes after a reconnect.
 */
export class RedisBus implements Bus {
  readonly #publisher: Redis;
  readonly #subscriber: Redis;
  /** channel → handler; at most one per session, as in MemoryBus. */
  readonly #handlers = new Map<string, (payload: string) => void>();
  /** channel → the SSUBSCRIBE in flight or done, so a second subscribe waits for the first. */
  readonly #subscribed = new Map<string, Promise<unknown>>();

  constructor(options: RedisConnectionOptions) {
    const name = options.connectionName ?? 'chat-bus';
    this.#publisher = connectRedis({ ...options, connectionName: `${name}-pub` });
    // No auto-pipelining on the subscriber: subscription changes are rare and must stay in call order.
    this.#subscriber = connectRedis({ ...options, connectionName: `${name}-sub` }, { enableAutoPipelining: false });
    this.#subscriber.on('smessage', (channel: string, payload: string) => {
      this.#handlers.get(channel)?.(payload);
    });
  }

  async publish(sessionId: string, payload: string): Promise<void> {
    await this.#publisher.spublish(sessionChannel(sessionId), payload);
  }

  async subscribe(sessionId: string, onPayload: (payload: string) => void): Promise<void> {
    const channel = sessionChannel(sessionId);
    // Replacing the handler of a live subscription needs no second SSUBSCRIBE.
    this.#handlers.set(channel, onPayload);
    let subscribing = this.#subscribed.get(channel);
    if (!subscribing) {
      subscribing = this.#subscriber.ssubscribe(channel);
      this.#subscribed.set(channel, subscribing);
    }
    try {
      await subscribing;
    } catch (error) {
      // Leave no half subscription behind: the next subscribe tries again.
      if (this.#subscribed.get(channel) === subscribing) {
        this.#subscribed.delete(channel);
        this.#handlers.delete(channel);
      }
      throw error;
    }
  }

  async unsubscribe(sessionId: string): Promise<void> {
    const channel = sessionChannel(sessionId);
    this.#handlers.delete(channel);
    if (!this.#subscribed.delete(channel)) return;
    await this.#subscriber.sunsubscribe(channel);
  }

  async ping(): Promise<void> {
    // The subscriber matters as much as the publisher: without it this replica hears nothing.
    await Promise.all([this.#publisher.ping(), this.#subscriber.ping()]);
  }

  async close(): Promise<void> {
    this.#handlers.clear();
    this.#subscribed.clear();
    await Promise.all([closeRedis(this.#publisher), closeRedis(this.#subscriber)]);
  }
}
