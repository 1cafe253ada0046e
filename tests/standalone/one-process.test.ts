import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestClient } from '@chat/gateway/testing';
import { onFreePort } from '../support/ports.ts';

// The README's first command ends in this process; here it runs as a newcomer would start it.
const root = join(import.meta.dirname, '..', '..');
const main = join(root, 'apps', 'standalone', 'src', 'main.ts');
const dataDir = mkdtempSync(join(tmpdir(), 'chat-standalone-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts the command on a free port, on another one if that port was taken meanwhile. */
function start(env: Record<string, string>): Promise<Started> {
  return onFreePort((port) => startAt({ ...env, GATEWAY_PORT: String(port) }));
}

function startAt(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [main], { cwd: root, env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not started within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Open the chat:\s+(\S+)\//.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1], output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code}:\n${output}`));
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

async function signIn(url: string, name: string): Promise<{ token: string; userId: string; sessionId: string }> {
  const response = await fetch(`${url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  expect(response.status).toBe(200);
  return (await response.json()) as { token: string; userId: string; sessionId: string };
}

describe('the one-process command', () => {
  it('serves a chat two people can use, and keeps its history across a restart', async () => {
    const first = await start({ DATA_DIR: dataDir });
    expect(first.output()).toMatch(/DEVELOPMENT MODE/);

    const ada = await signIn(first.url, 'Ada');
    const grace = await signIn(first.url, 'Grace');
    const created = await fetch(`${first.url}/api/chat/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ada.token}` },
      body: JSON.stringify({ title: 'Q3 review', members: [grace.userId] }),
    });
    expect(created.status).toBe(201);
    const sessionId = ((await created.json()) as { id: string }).id;

    const ws = first.url.replace(/^http/, 'ws');
    const adaSocket = new TestClient(`${ws}/ws/chat/${sessionId}?token=${ada.token}`);
    const graceSocket = new TestClient(`${ws}/ws/chat/${sessionId}?token=${grace.token}`);
    await adaSocket.nextOfType('welcome');
    await graceSocket.nextOfType('welcome');

    adaSocket.send({ type: 'send', clientMsgId: 'a-1', body: 'Margins look thin.' });
    expect(await adaSocket.nextOfType('ack')).toMatchObject({ clientMsgId: 'a-1', seq: 1 });
    expect(await graceSocket.nextOfType('message')).toMatchObject({ seq: 1, userId: ada.userId, body: 'Margins look thin.', userName: 'Ada' });
    graceSocket.send({ type: 'send', clientMsgId: 'g-1', body: 'Agreed, see the EBITDA bridge.' });
    expect(await graceSocket.nextOfType('ack')).toMatchObject({ seq: 2 });
    expect(await adaSocket.next((frame) => frame.type === 'message' && frame['seq'] === 2)).toMatchObject({ userId: grace.userId, userName: 'Grace' });

    adaSocket.close();
    graceSocket.close();
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).toBe(0);

    // The port is free again, but another process may have taken it: a fresh one serves as well.
    const second = await start({ DATA_DIR: dataDir });
    const history = await fetch(`${second.url}/api/chat/history/${sessionId}`, { headers: { authorization: `Bearer ${ada.token}` } });
    expect(history.status).toBe(200);
    const page = (await history.json()) as { messages: { seq: number; body: string }[]; hasMore: boolean };
    expect(page.messages.map((m) => [m.seq, m.body])).toEqual([
      [1, 'Margins look thin.'],
      [2, 'Agreed, see the EBITDA bridge.'],
    ]);

    // The tokens signed before the restart still work, and numbering goes on where it stopped.
    const again = new TestClient(`${second.url.replace(/^http/, 'ws')}/ws/chat/${sessionId}?token=${ada.token}`);
    expect(await again.nextOfType('welcome')).toMatchObject({ seq: 2 });
    again.send({ type: 'send', clientMsgId: 'a-2', body: 'Next: the cash flow.' });
    expect(await again.nextOfType('ack')).toMatchObject({ seq: 3 });
    again.close();
    second.child.kill('SIGTERM');
    expect(await exited(second.child)).toBe(0);
  }, 180_000);

  it('refuses to start with the development sign-in in the production configuration', async () => {
    const failed = start({ DATA_DIR: dataDir, NODE_ENV: 'production' });
    await expect(failed).rejects.toThrow(/configuration error: DEV_SIGNIN/);
  }, 60_000);

  it('offers no development sign-in when it is switched off', async () => {
    // An empty web root, so the path falls through to the static site's plain 404.
    const webRoot = mkdtempSync(join(tmpdir(), 'chat-standalone-web-'));
    const started = await start({ DATA_DIR: dataDir, DEV_SIGNIN: '0', WEB_ROOT: webRoot });
    const response = await fetch(`${started.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"Eve"}' });
    expect(response.status).toBe(404);
    expect(await response.text()).toBe('not found\n');
    rmSync(webRoot, { recursive: true, force: true });
    started.child.kill('SIGTERM');
    await exited(started.child);
  }, 120_000);
});
