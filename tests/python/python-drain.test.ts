import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { TestClient } from '@chat/gateway/testing';
import { Cluster } from '../gateway/cluster.ts';
import { describeWithServices, NATS, POSTGRES, REDIS } from '../support/services.ts';
import { PYTHON, pythonAvailable, run } from './python-runtime.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTEST_TIMEOUT_MS = 120_000;
const WINDOW_MS = 2_000;
/** Other sockets on the draining replica, so the drain spreads over the window and the listener draws its own delay. */
const NEIGHBOURS = 5;

const python = await pythonAvailable();
const describeDrain = python ? await describeWithServices(POSTGRES, REDIS, NATS) : describe.skip;

/**
 * Two gateway replicas and a small control server for the Python test: `POST /send?count=n` sends
 * n messages through the second replica (answered once acked), `POST /drain` drains the first.
 */
describeDrain('the Python listener under a real gateway drain', () => {
  let cluster: Cluster;
  let control: Server;
  let sender: TestClient;
  const neighbours: TestClient[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    cluster = await Cluster.start(2, { env: { DRAIN_RECONNECT_WINDOW_MS: String(WINDOW_MS) } });
    const [draining, staying] = [cluster.replica(0), cluster.replica(1)];
    const [listenerUser, senderUser, ...others] = Array.from({ length: NEIGHBOURS + 2 }, () => randomUUID());
    const sessionId = await cluster.createSession([listenerUser ?? '', senderUser ?? '', ...others]);
    sender = new TestClient(staying.url(`/ws/chat/${sessionId}?token=${await cluster.token({ userId: senderUser ?? '' })}`));
    await sender.nextOfType('welcome');
    for (const userId of others) {
      const neighbour = new TestClient(draining.url(`/ws/chat/${sessionId}?token=${await cluster.token({ userId })}`));
      await neighbour.nextOfType('welcome');
      neighbours.push(neighbour);
    }
    let sent = 0;
    control = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://control');
      void (async () => {
        if (req.method === 'POST' && url.pathname === '/send') {
          const seqs: unknown[] = [];
          for (let i = 0; i < Number(url.searchParams.get('count') ?? 1); i++) {
            const clientMsgId = `drain-${++sent}`;
            sender.send({ type: 'send', clientMsgId, body: `message ${sent}` });
            seqs.push((await sender.next((frame) => frame.type === 'ack' && frame['clientMsgId'] === clientMsgId, 10_000))['seq']);
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seqs));
        } else if (req.method === 'POST' && url.pathname === '/drain') {
          // Answered at once: the drain closes the listener's socket while it goes on.
          void draining.stop();
          res.writeHead(202).end();
        } else {
          res.writeHead(404).end();
        }
      })().catch((error: unknown) => res.writeHead(500).end(String(error)));
    });
    await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', () => resolve()));
    env = {
      CHAT_DRAIN_CONTROL_URL: `http://127.0.0.1:${(control.address() as AddressInfo).port}`,
      CHAT_DRAIN_GATEWAY_URLS: [draining.http(''), staying.http('')].join(','),
      CHAT_DRAIN_SESSION_ID: sessionId,
      CHAT_DRAIN_TOKEN: await cluster.token({ userId: listenerUser ?? '' }),
      CHAT_DRAIN_WINDOW_MS: String(WINDOW_MS),
    };
  }, 60_000);

  afterAll(async () => {
    sender.close();
    for (const neighbour of neighbours) neighbour.close();
    await new Promise<void>((resolve) => control.close(() => resolve()));
    await cluster.dispose();
  }, 30_000);

  it(
    'waits the delay the 1001 close names, then resumes once on the other replica without gap or duplicate',
    async () => {
      const result = await run(PYTHON, ['-m', 'pytest', 'clients/python/tests/test_gateway_drain.py', '-q', '-p', 'no:cacheprovider'], {
        cwd: ROOT,
        timeoutMs: PYTEST_TIMEOUT_MS,
        env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', ...env },
      });
      if (result.code !== 0) throw new Error(`pytest failed (exit ${result.code}):\n${result.output}`);
      expect(result.output).toMatch(/1 passed/);
      // The neighbours were drained too: the drain really closed the first replica's sockets.
      for (const neighbour of neighbours) expect((await neighbour.closed).code).toBe(1001);
    },
    PYTEST_TIMEOUT_MS,
  );
});
