import { loadOrCreateSecret } from './local-secret.ts';

/**
 * The settings of the one-process mode over the given environment: the embedded backend, the
 * development sign-in unless turned off, loopback only unless HOST says otherwise (the sign-in lets
 * anyone pick any name), and a secret kept in the data folder unless one is given.
 */
export function embeddedEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const dataDir = nonEmpty(env['DATA_DIR']) ?? '.data';
  return {
    ...env,
    CHAT_BACKEND: 'embedded',
    DATA_DIR: dataDir,
    DEV_SIGNIN: nonEmpty(env['DEV_SIGNIN']) ?? '1',
    HOST: nonEmpty(env['HOST']) ?? '127.0.0.1',
    JWT_SECRET: nonEmpty(env['JWT_SECRET']) ?? loadOrCreateSecret(dataDir),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
