import { execFile } from 'node:child_process';

/** Debian's interpreter: the packages the client needs come from apt (python3-httpx, -websockets, -pytest). */
export const PYTHON = '/usr/bin/python3';
const MODULES = ['httpx', 'websockets', 'pytest'];
const INSTALL = 'apt-get install python3-httpx python3-websockets python3-pytest';

export interface RunResult {
  code: number;
  output: string;
}

/** Runs a command to the end, keeping this process's event loop free for the servers it hosts. */
export function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 0, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      resolve({ code, output: `${stdout}${stderr}${error !== null && typeof error.code !== 'number' ? `\n${error.message}` : ''}` });
    });
  });
}

/**
 * Whether the Python tests can run here. In CI a missing interpreter or package fails the run;
 * elsewhere the suite is skipped with a loud message saying what to install.
 */
export async function pythonAvailable(): Promise<boolean> {
  const probe = await run(PYTHON, ['-c', `import ${MODULES.join(', ')}`]);
  if (probe.code === 0) return true;
  const message = `The Python client's tests need ${PYTHON} with ${MODULES.join(', ')}: ${INSTALL}\n${probe.output.trim()}`;
  if (process.env['CI']) throw new Error(message);
  console.warn(`\n*** SKIPPING the Python client's tests ***\n${message}\n`);
  return false;
}
