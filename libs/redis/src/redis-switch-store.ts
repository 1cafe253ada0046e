import type { ChatSwitchState, ChatSwitchStore } from '@chat/core';
import type { RedisClient } from './redis-connection.ts';

/**
 * The Redis key of the switch. It is outside the patterns chat:purge-redis deletes, so a purge
 * during a rollback leaves chat off. No key means on.
 */
export const CHAT_SWITCH_KEY = 'chat-control:switch';

export class RedisSwitchStore implements ChatSwitchStore {
  readonly #redis: RedisClient;
  readonly #owned: boolean;

  /** `owned`: close() disconnects the client. */
  constructor(redis: RedisClient, options: { owned?: boolean } = {}) {
    this.#redis = redis;
    this.#owned = options.owned ?? true;
  }

  async read(): Promise<ChatSwitchState> {
    return (await this.#redis.get(CHAT_SWITCH_KEY)) === 'off' ? 'off' : 'on';
  }

  async write(state: ChatSwitchState): Promise<void> {
    if (state === 'on') await this.#redis.del(CHAT_SWITCH_KEY);
    else await this.#redis.set(CHAT_SWITCH_KEY, 'off');
  }

  close(): Promise<void> {
    if (this.#owned) this.#redis.disconnect();
    return Promise.resolve();
  }
}
