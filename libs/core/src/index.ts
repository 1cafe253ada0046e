export type * from './ports.ts';
export { MemorySessionState } from './memory-state.ts';
export { MemoryHub, MemoryBus } from './memory-bus.ts';
export { SessionDirectory, type Access, type Caller } from './session-directory.ts';
export { MessageIntake, type AcceptInput, type AcceptResult } from './message-intake.ts';
export { RedisSessionState, sessionKeys, LiveStateCorruptError, type RedisSessionStateOptions } from './redis-session-state.ts';
export { connectRedis, closeRedis, type RedisConnectionOptions } from './redis-connection.ts';
export { RedisBus, sessionChannel } from './redis-bus.ts';
