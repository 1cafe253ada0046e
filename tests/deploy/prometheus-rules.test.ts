import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from '@jest/globals';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TESTS = 'deploy/prometheus/tests';

async function promtoolAvailable(): Promise<boolean> {
  try {
    await run('promtool', ['--version']);
    return true;
  } catch {
    const message = 'promtool is not installed; install it with: apt-get install prometheus';
    if (process.env['CI']) throw new Error(message);
    console.warn(`\n*** SKIPPING the alert rule tests ***\n${message}\n`);
    return false;
  }
}

const available = await promtoolAvailable();

(available ? describe : describe.skip)('the Prometheus alert rules', () => {
  it('are valid rule files', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', ...readdirSync(`${ROOT}deploy/prometheus/rules`).map((file) => `deploy/prometheus/rules/${file}`)], { cwd: ROOT });
    expect(stdout).toMatch(/SUCCESS/);
  });

  it.each(readdirSync(`${ROOT}${TESTS}`).filter((file) => file.endsWith('.test.yml')))('pass their unit tests in %s', async (file) => {
    const { stdout } = await run('promtool', ['test', 'rules', `${TESTS}/${file}`], { cwd: ROOT });
    expect(stdout).toMatch(/SUCCESS/);
  });
});
