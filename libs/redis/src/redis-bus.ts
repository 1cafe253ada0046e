import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Bus } from '@chat/core';
import { ProbeChannels } from './bus-probe.ts';
import { closeRedis, connectRedis, type RedisClient, type RedisConnectionOptions } from './redis-connection.ts';

/** The pub/sub channel of one session; braces as in the other keys, so it maps to the session's slot. */
export function sessionChannel(sessionId: string): string {
  return `sessions:{${sessionId}}:events`;
}

const PROBE_PREFIX = 'chat-bus-probe:';

export interface RedisBusOptions extends RedisConnectionOptions {
  /** How long ping() waits to hear its own probe on each shard. */
  probeTimeoutMs?: number;
}

/**
 * Fan-out between replicas over Redis sharded pub/sub (SPUBLISH/SSUBSCRIBE: in Redis Cluster a
 * session's events stay on the shard that owns its slot instead of being broadcast to every node).
 * One publisher and one subscriber client per process. After a reconnect a plain connection
 * resubscribes here, not through ioredis's own resubscribe, which leaves a refused or timed-out
 * SSUBSCRIBE as an unhandled rejection that ends the process; a cluster client's subscriber group
 * (one connection per master) resubscribes by itself and handles its failures.
 */
export class RedisBus implements Bus {
  readonly #publisher: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #probeTimeoutMs: number;
  readonly #probes = new ProbeChannels();
  /** channel → handler; at most one per session, as in MemoryBus. */
  readonly #handlers = new Map<string, (payload: string) => void>();
  /** channel → the SSUBSCRIBE in flight or done, so a second subscribe waits for the first. */
  readonly #subscribed = new Map<string, Promise<unknown>>();
  /** probe nonce → what to call when it comes back. */
  readonly #probeWaiters = new Map<string, () => void>();
  readonly #onError: ((error: Error) => void) | undefined;
  #resubscribeTimer: NodeJS.Timeout | undefined;

  constructor(options: RedisBusOptions) {
    const name = options.connectionName ?? 'chat-bus';
    this.#probeTimeoutMs = options.probeTimeoutMs ?? 1_000;
    this.#publisher = connectRedis({ ...options, connectionName: `${name}-pub` });
    // No auto-pipelining on the subscriber: subscription changes are rare and must stay in call order.
    this.#onError = options.onError;
    this.#subscriber = connectRedis({ ...options, connectionName: `${name}-sub` }, { enableAutoPipelining: false, autoResubscribe: false }, { shardedSubscribers: true });
    if (this.#subscriber instanceof Redis) this.#subscriber.on('ready', () => this.#resubscribe());
    this.#subscriber.on('smessage', (channel: string, payload: string) => {
      if (channel.startsWith(PROBE_PREFIX)) this.#probeWaiters.get(payload)?.();
      else this.#handlers.get(channel)?.(payload);
    });
  }

  async publish(sessionId: string, payload: string): Promise<void> {
    await this.#publisher.spublish(sessionChannel(sessionId), payload);
  }

  async subscribe(sessionId: string, onPayload: (payload: string) => void): Promise<void> {
    const channel = sessionChannel(sessionId);
    // Replacing the handler of a live subscription needs no second SSUBSCRIBE.
    this.#handlers.set(channel, onPayload);
    try {
      await this.#ssubscribe(channel);
    } catch (error) {
      this.#handlers.delete(channel);
      throw error;
    }
  }

  async unsubscribe(sessionId: string): Promise<void> {
    const channel = sessionChannel(sessionId);
    this.#handlers.delete(channel);
    if (!this.#subscribed.delete(channel)) return;
    await this.#subscriber.sunsubscribe(channel);
  }

  /**
   * Healthy only when this process hears its own messages on every shard: a reply to PING says
   * nothing of subscriptions, and a resubscribe after a reconnect or failover can fail or hang
   * unnoticed while PING keeps answering. Each call SPUBLISHes a probe to a channel of each
   * master and waits to receive it on the same subscriber connections the sessions use.
   */
  async ping(): Promise<void> {
    await Promise.all([this.#publisher.ping(), this.#subscriber.ping()]);
    const channels = this.#probes.current(this.#subscriber);
    if (channels.length === 0) throw new Error('the bus knows no Redis master yet');
    await Promise.all(channels.map((channel) => this.#probe(channel)));
  }

  async close(): Promise<void> {
    clearTimeout(this.#resubscribeTimer);
    this.#handlers.clear();
    this.#subscribed.clear();
    await Promise.all([closeRedis(this.#publisher), closeRedis(this.#subscriber)]);
  }

  /**
   * Subscribes again to every channel after a reconnect. A refusal or a timeout is retried each
   * second; meanwhile ping() fails, so readiness says this replica hears nothing.
   */
  #resubscribe(): void {
    clearTimeout(this.#resubscribeTimer);
    const channels = [...this.#subscribed.keys()];
    if (channels.length === 0) return;
    Promise.all(channels.map((channel) => this.#subscriber.ssubscribe(channel))).catch((error: unknown) => {
      this.#onError?.(error instanceof Error ? error : new Error(String(error)));
      this.#resubscribeTimer = setTimeout(() => this.#resubscribe(), 1_000);
      this.#resubscribeTimer.unref();
    });
  }

  async #ssubscribe(channel: string): Promise<void> {
    let subscribing = this.#subscribed.get(channel);
    if (!subscribing) {
      subscribing = this.#subscriber.ssubscribe(channel);
      this.#subscribed.set(channel, subscribing);
    }
    try {
      await subscribing;
    } catch (error) {
      // Leave no half subscription behind: the next subscribe tries again.
      if (this.#subscribed.get(channel) === subscribing) this.#subscribed.delete(channel);
      throw error;
    }
  }

  async #probe(channel: string): Promise<void> {
    const nonce = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const heard = new Promise<void>((resolve, reject) => {
      this.#probeWaiters.set(nonce, resolve);
      timer = setTimeout(() => reject(new Error(`the bus subscriber did not hear its probe on ${channel} within ${String(this.#probeTimeoutMs)} ms`)), this.#probeTimeoutMs);
    });
    try {
      await Promise.race([this.#ssubscribe(channel).then(() => this.#publisher.spublish(channel, nonce)), heard]);
      await heard;
    } finally {
      clearTimeout(timer);
      this.#probeWaiters.delete(nonce);
    }
  }
}
