export { loadConfig, loadConfigOrExit, ConfigError, type Config, type LoadOptions } from './load-config.ts';
export { envSchema, type Env } from './env-schema.ts';
