import { execFile } from 'node:child_process';

/** Debian's interpreter: the packages the client needs come from apt (python3-httpx, -websockets, -pytest). */
export const PYTHON = '/usr/bin/python3';
/** The Python client's own needs; the Streamlit example's backend adds fastapi and uvicorn. */
export const CLIENT_MODULES = ['httpx', 'websockets', 'pytest'] as const;

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
export async function pythonAvailable(modules: readonly string[] = CLIENT_MODULES): Promise<boolean> {
  const probe = await run(PYTHON, ['-c', `import ${modules.join(', ')}`]);
  if (probe.code === 0) return true;
  const install = `apt-get install ${modules.map((m) => `python3-${m}`).join(' ')}`;
  const message = `These Python tests need ${PYTHON} with ${modules.join(', ')}: ${install}\n${probe.output.trim()}`;
  if (process.env['CI']) throw new Error(message);
  console.warn(`\n*** SKIPPING Python tests ***\n${message}\n`);
  return false;
}
