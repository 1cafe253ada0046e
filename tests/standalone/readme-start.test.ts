import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { TestClient } from '@chat/gateway/testing';
import { ERROR_CODES } from '@chat/protocol';

// A newcomer's first command, verbatim from the README, in a fresh clone of what is committed, on
// the Node.js the machine ships: the PATH without any node_modules/.bin that put Node 24 first.
const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'chat-readme-'));
const children: ChildProcess[] = [];

afterAll(async () => {
  await Promise.all(children.map(stopGroup));
  rmSync(work, { recursive: true, force: true });
});

/** The command runs pnpm, which runs node: the whole process group goes, and its pipes with it. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid, 'SIGKILL');
  await exited;
  child.stdout?.destroy();
  child.stderr?.destroy();
}

function readmeStartCommand(): string {
  const line = readFileSync(join(root, 'README.md'), 'utf8')
    .split('\n')
    .find((text) => text.startsWith('npx ') && /pnpm@\S+ start\b/.test(text));
  if (line === undefined) throw new Error('README.md gives no start command');
  return (line.split('#')[0] ?? '').trim();
}

function machinePath(): string {
  return (process.env['PATH'] ?? '')
    .split(delimiter)
    .filter((dir) => !dir.includes('node_modules'))
    .join(delimiter);
}

function startInClone(command: string, env: Record<string, string>): { child: ChildProcess; url: Promise<string>; output: () => string } {
  const clone = join(work, 'clone');
  execFileSync('git', ['clone', '-q', root, clone]);
  const child = spawn('bash', ['-c', command], { cwd: clone, detached: true, env: { HOME: process.env['HOME'] ?? work, PATH: machinePath(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Open the chat:\s+(\S+)\//.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`the start command exited with ${code}:\n${output}`)));
  });
  return { child, url, output: () => output };
}

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe("the README's start command on the machine's own Node.js", () => {
  it('installs, builds and serves a chat from a new data folder, on loopback only, with metrics', async () => {
    const machineNode = execFileSync('node', ['--version'], { env: { PATH: machinePath() } }).toString().trim();
    const dataDir = join(work, 'new', 'nested', 'data');
    const started = startInClone(readmeStartCommand(), { DATA_DIR: dataDir, GATEWAY_PORT: '0', JWT_SECRET: 'x'.repeat(40), LOG_LEVEL: 'warn', CI: 'true' });
    const url = await started.url.catch((error: unknown) => {
      throw new Error(`with ${machineNode}: ${String(error)}`);
    });
    expect(started.output()).toMatch(/DEVELOPMENT MODE/);
    expect(started.output()).toMatch(/127\.0\.0\.1 only/);
    const port = Number(new URL(url).port);
    expect(await refused('127.0.0.2', port)).toBe(true);

    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);

    const signIn = await fetch(`${url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Ada' }) });
    expect(signIn.status).toBe(200);
    const { token, sessionId } = (await signIn.json()) as { token: string; sessionId: string };

    // The page the process served itself may connect, whatever port it got; another origin may not.
    const own = new TestClient(`${url.replace(/^http/, 'ws')}/ws/chat/${sessionId}?token=${token}`, { headers: { origin: url } });
    await expect(own.nextOfType('welcome')).resolves.toMatchObject({ sessionId });
    own.send({ type: 'send', clientMsgId: 'first', body: 'hello' });
    await expect(own.nextOfType('ack')).resolves.toMatchObject({ clientMsgId: 'first' });
    own.close();
    const foreign = new TestClient(`${url.replace(/^http/, 'ws')}/ws/chat/${sessionId}?token=${token}`, { headers: { origin: 'http://localhost:1' } });
    await expect(foreign.closed).resolves.toEqual({ code: 4403, reason: ERROR_CODES.origin_refused.message });

    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^chat_messages_accepted_total\{[^}]*\} 1$/m);
    expect(text).toMatch(/^# TYPE chat_connections_open/m);
  }, 300_000);
});
