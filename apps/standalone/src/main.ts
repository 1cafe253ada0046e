import { loadConfigOrExit } from '@chat/config';
import { createLogger, startTelemetry } from '@chat/telemetry';
import { startEmbeddedChat } from './embedded-chat.ts';
import { embeddedEnvironment } from './embedded-environment.ts';
import { printBanner } from './banner.ts';

// The embedded mode: everything in this process, data in DATA_DIR, development sign-in on.
const config = loadConfigOrExit({ requireAuth: true }, embeddedEnvironment(process.env));
const telemetry = startTelemetry({ serviceName: 'chat', instanceId: config.instanceId });
const logger = createLogger('chat', config.logLevel);

const chat = await startEmbeddedChat({ config, logger, persistent: true, telemetry });
printBanner({ url: chat.url.replace('127.0.0.1', 'localhost'), host: config.host, dataDir: config.dataDir, devSignIn: config.devSignIn });

let stopping = false;
const stop = (signal: string) => {
  if (stopping) process.exit(1);
  stopping = true;
  logger.info({ signal }, 'shutting down');
  chat
    .stop()
    .then(() => telemetry.shutdown())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
