import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export const PROMETHEUS_INSTALL = 'apt-get install prometheus (Debian ships promtool with it)';

/** The absolute path of a Prometheus binary on PATH (or /usr/bin), or undefined. */
export function findBinary(name: 'promtool' | 'prometheus'): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  return dirs.map((dir) => join(dir, name)).find((path) => existsSync(path));
}

/**
 * Like realServicesAvailable: in CI a missing binary fails the run; elsewhere the suite is
 * skipped with a loud message saying how to install it.
 */
export function prometheusBinaryAvailable(name: 'promtool' | 'prometheus'): string | undefined {
  const path = findBinary(name);
  if (path !== undefined) return path;
  const message = `${name} is not installed; install it with: ${PROMETHEUS_INSTALL}`;
  if (process.env['CI']) throw new Error(message);
  console.warn(`\n*** SKIPPING ${name} tests ***\n${message}\n`);
  return undefined;
}
