export { connectRedis, closeRedis, type RedisClient, type RedisConnectionOptions } from './redis-connection.ts';
export { RedisSessionState, sessionKeys, LiveStateCorruptError, type RedisSessionStateOptions } from './redis-session-state.ts';
export { RedisBus, sessionChannel, type RedisBusOptions } from './redis-bus.ts';
export { hashSlot } from './hash-slot.ts';
export { purgeChatKeys, keyHolders, CHAT_KEY_PATTERNS, type PurgeOptions, type PurgeResult, type PurgeProgress } from './redis-purge.ts';
export { RedisSwitchStore, CHAT_SWITCH_KEY } from './redis-switch-store.ts';
export { RedisConnectionSlots, type RedisConnectionSlotsOptions } from './redis-connection-slots.ts';
export { RedisUserRateLimiter } from './redis-user-rate-limiter.ts';
