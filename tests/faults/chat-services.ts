import { join } from 'node:path';
import type { FaultTarget } from './infra-servers.ts';
import { ManagedProcess, waitFor } from './managed-process.ts';

export type ServiceRole = 'gateway' | 'session-api' | 'persister';

const SCRIPTS: Record<ServiceRole, string> = {
  gateway: 'services/gateway/src/main.ts',
  'session-api': 'services/session-api/src/main.ts',
  persister: 'services/persister/src/main.ts',
};
const PORT_VARIABLE: Record<ServiceRole, string> = { gateway: 'GATEWAY_PORT', 'session-api': 'API_PORT', persister: 'PERSISTER_PORT' };

export interface ChatServiceSpec {
  name: string;
  role: ServiceRole;
  port: number;
  repoRoot: string;
  logDir: string;
  env: Record<string, string>;
  /** The address it listens on and is reached at; 127.0.0.1 by default. */
  host?: string;
  /** Runs the command line this returns instead (e.g. inside a network namespace). */
  wrap?: (command: string, args: readonly string[]) => { command: string; args: string[] };
}

/** One of our services as a child process on a fixed port, so clients find it again after a restart. */
export class ChatService implements FaultTarget {
  readonly name: string;
  readonly role: ServiceRole;
  readonly port: number;
  readonly host: string;
  readonly process: ManagedProcess;
  /** Exits the suite did not cause; each was followed by a restart, as `restart: unless-stopped` does. */
  readonly crashes: { at: number; how: string }[] = [];
  #retired = false;

  constructor(spec: ChatServiceSpec) {
    this.name = spec.name;
    this.role = spec.role;
    this.port = spec.port;
    this.host = spec.host ?? '127.0.0.1';
    const line = (spec.wrap ?? ((command, args) => ({ command, args: [...args] })))(process.execPath, [SCRIPTS[spec.role]]);
    this.process = new ManagedProcess({
      name: spec.name,
      command: line.command,
      args: line.args,
      cwd: spec.repoRoot,
      env: { ...spec.env, HOST: this.host, [PORT_VARIABLE[spec.role]]: String(spec.port), INSTANCE_ID: spec.name },
      logFile: join(spec.logDir, `${spec.name}.log`),
    });
    this.process.onCrash((code, signal) => {
      this.crashes.push({ at: performance.now(), how: signal === null ? `exit ${code}` : signal });
      setTimeout(() => {
        if (!this.#retired) void this.start().catch(() => undefined);
      }, 1_000);
    });
  }

  /** Stops for good: no restart after a crash from now on. */
  async retire(): Promise<void> {
    this.#retired = true;
    await this.process.stop();
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://${this.host}:${this.port}`;
  }

  /** Starts and resolves once /readyz answers 200. */
  async start(): Promise<void> {
    this.process.start();
    await waitFor(
      `${this.name} ready on ${this.port}`,
      async () => {
        if (!this.process.running) throw new Error(`${this.name} exited; see ${this.process.spec.logFile}`);
        const answer = await readyzAnswer(this.url);
        // Thrown, not returned, so the last reason is in the error should it never get ready.
        if (!answer.ready) throw new Error(`last /readyz: ${answer.why ?? 'not ready'}`);
        return true;
      },
      60_000,
      150,
    );
  }
}

/** true / false from /readyz, or false when the process does not answer in time. */
export async function readyz(baseUrl: string, timeoutMs = 1500): Promise<boolean> {
  return (await readyzAnswer(baseUrl, timeoutMs)).ready;
}

/** /readyz's answer and, when not ready, why: the checks that failed, or no answer in time. */
export async function readyzAnswer(baseUrl: string, timeoutMs = 1500): Promise<{ ready: boolean; why?: string }> {
  try {
    const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    if (response.ok) return { ready: true };
    return { ready: false, why: `${response.status} ${failingChecks(text)}` };
  } catch (error) {
    return { ready: false, why: error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : 'no answer' };
  }
}

function failingChecks(body: string): string {
  try {
    const report = JSON.parse(body) as { checks?: Record<string, { ok: boolean; error?: string }> };
    const failing = Object.entries(report.checks ?? {}).filter(([, check]) => !check.ok);
    return failing.map(([name, check]) => (check.error === undefined ? name : `${name}: ${check.error}`)).join(', ');
  } catch {
    return body.slice(0, 80);
  }
}
