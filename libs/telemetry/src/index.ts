export { createLogger, redactUrl, REDACTED, REDACTED_PATHS, type Logger } from './create-logger.ts';
