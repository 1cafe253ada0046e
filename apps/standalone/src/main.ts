import { loadConfigOrExit } from '@chat/config';
import { createLogger } from '@chat/telemetry';
import { startEmbeddedChat } from './embedded-chat.ts';
import { loadOrCreateSecret } from './local-secret.ts';
import { printBanner } from './banner.ts';

// The embedded mode: everything in this process, data in DATA_DIR, development sign-in on.
const dataDir = process.env['DATA_DIR'] ?? '.data';
process.env['CHAT_BACKEND'] = 'embedded';
process.env['DEV_SIGNIN'] ??= '1';
process.env['JWT_SECRET'] ??= loadOrCreateSecret(dataDir);
const config = loadConfigOrExit({ requireAuth: true });
const logger = createLogger('chat', config.logLevel);

const chat = await startEmbeddedChat({ config, logger, persistent: true });
printBanner({ url: chat.url.replace('127.0.0.1', 'localhost'), dataDir: config.dataDir, devSignIn: config.devSignIn });

let stopping = false;
const stop = (signal: string) => {
  if (stopping) process.exit(1);
  stopping = true;
  logger.info({ signal }, 'shutting down');
  chat.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
