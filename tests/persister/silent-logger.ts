import type { PersisterLogger } from '@chat/persister';

export const silentLogger: PersisterLogger = { debug: () => undefined, warn: () => undefined, error: () => undefined };
