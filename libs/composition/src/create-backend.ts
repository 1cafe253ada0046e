import type { Config } from '@chat/config';
import type { Backend } from './backend.ts';
import { createEmbeddedBackend } from './embedded-backend.ts';
import { createServicesBackend, type ServicesBackendOptions } from './services-backend.ts';

/** The one switch between the real services and the in-process ones (CHAT_BACKEND). */
export async function createBackend(config: Config, options: ServicesBackendOptions): Promise<Backend> {
  switch (config.backend) {
    case 'services':
      return createServicesBackend(config, options);
    case 'embedded':
      return createEmbeddedBackend(config, { persistent: true });
  }
}
