import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '@chat/protocol';
import { randomBytes } from 'node:crypto';
import { createVerifier } from '@chat/composition';
import { Readiness } from '@chat/service-kit';
import { createLogger } from '@chat/telemetry';
import { JetStreamDeadLetters, loadWebhookSettings, signedHeaders, WebhookDispatcher, WebhookMetrics, WebhooksServer } from '@chat/webhooks';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Receiver } from '../webhooks/receiver.ts';
import { NATS, POSTGRES, realServicesAvailable, REDIS, TEST_NATS_URL } from '../support/services.ts';
import { startStack, type Stack, type StackKind } from '../support/stack.ts';
import { PYTHON, pythonAvailable, run } from './python-runtime.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTEST_TIMEOUT_MS = 240_000;
/** The one host result-card links may point to on the stacks the Python tests use. */
const ANALYSIS_LINK_HOST = 'analysis.example.com';

const python = await pythonAvailable();
const kinds: StackKind[] = ['embedded', ...((await realServicesAvailable(POSTGRES, REDIS, NATS)) ? (['services'] as const) : [])];
const describePython = python ? describe : describe.skip;

/** Runs clients/python's pytest suite against a stack; pytest's own output is the failure message. */
async function runPytest(stack: Stack, webhooks: Webhooks | undefined): Promise<{ code: number; output: string }> {
  // The embedded mode has no webhooks service (no JetStream): its dead-letter tests run against the services stack only.
  const extraArgs: string[] = webhooks ? [] : ['--ignore=clients/python/tests/test_webhook_dead_letters.py'];
  // Drains a gateway of its own: tests/python/python-drain.test.ts runs it.
  extraArgs.push('--ignore=clients/python/tests/test_gateway_drain.py');
  // The services stack's kill switch is one Redis key shared with everything else on that Redis: only the embedded run turns chat off.
  if (stack.kind === 'services') extraArgs.push('--ignore=clients/python/tests/test_chat_switch.py');
  return run(PYTHON, ['-m', 'pytest', 'clients/python/tests', '-q', '-p', 'no:cacheprovider', ...extraArgs], {
    cwd: ROOT,
    timeoutMs: PYTEST_TIMEOUT_MS,
    env: {
      ...process.env,
      PYTHONDONTWRITEBYTECODE: '1',
      CHAT_STACK: stack.kind,
      CHAT_API_URL: stack.apiUrl,
      CHAT_GATEWAY_URLS: stack.gatewayUrls.join(','),
      CHAT_JWT_SECRET: stack.secret,
      CHAT_ERROR_CODES: JSON.stringify(ERROR_CODES),
      CHAT_WEBHOOK_VECTOR: JSON.stringify(webhookVector()),
      CHAT_ANALYSIS_LINK_HOST: ANALYSIS_LINK_HOST,
      ...(webhooks ? { CHAT_WEBHOOKS_URL: webhooks.url } : {}),
    },
  });
}

interface Webhooks {
  url: string;
  stop(): Promise<void>;
}

/**
 * The webhooks service beside the services stack, with one endpoint whose receiver refuses the
 * first attempt of each event and takes any later one: with one attempt allowed, every message
 * becomes a dead letter that a replay then delivers.
 */
async function startWebhooks(stack: Stack): Promise<Webhooks> {
  const secret = 'whsec-python-client-0123456789';
  const receiver = new Receiver(secret, (attempt) => ({ status: attempt === 1 ? 503 : 200 }));
  await receiver.start();
  const deadLetterStream = `WEBHOOK_DL_PY_${randomBytes(4).toString('hex')}`;
  const settings = loadWebhookSettings({
    WEBHOOK_ENDPOINTS: JSON.stringify([{ id: 'flaky', url: receiver.url, secrets: [secret], events: ['message.created'], maxAttempts: 1 }]),
    WEBHOOK_DEAD_LETTER_STREAM: deadLetterStream,
    WEBHOOK_CONSUMER_PREFIX: `wh_py_${randomBytes(4).toString('hex')}`,
  });
  const nc: NatsConnection = await connect({ servers: TEST_NATS_URL });
  const deadLetters = await JetStreamDeadLetters.create(nc, deadLetterStream);
  const metrics = new WebhookMetrics();
  const logger = createLogger('python-webhooks', 'silent');
  const dispatcher = new WebhookDispatcher({ nc, queue: stack.config.queue, endpoints: settings.endpoints, consumerPrefix: settings.consumerPrefix, deadLetters, metrics, logger });
  await dispatcher.start();
  const server = new WebhooksServer({ host: '127.0.0.1', port: 0, readiness: new Readiness(), metrics, deadLetters, verifier: createVerifier(stack.config), endpoints: settings.endpoints });
  await server.start();
  return {
    url: `http://127.0.0.1:${server.port}`,
    stop: async () => {
      await dispatcher.stop();
      await server.stop();
      await (await jetstreamManager(nc)).streams.delete(deadLetterStream).catch(() => false);
      await nc.close();
      await receiver.stop();
    },
  };
}

/** A delivery signed by the webhooks service's code, for the Python verifier to check. */
function webhookVector(): { secret: string; timestamp: number; headers: Record<string, string>; body: string } {
  const secret = 'whsec-vector-secret-0123456789';
  const timestamp = Math.floor(Date.now() / 1000);
  const id = 'message.created:8f0c2b1e-5b7a-4d8e-9c1f-2a3b4c5d6e7f';
  // Non-ASCII text: the signature covers the UTF-8 bytes.
  const body = JSON.stringify({ id, type: 'message.created', createdAt: new Date().toISOString(), data: { body: 'VaR 1,2 M€ — ok' } });
  return { secret, timestamp, headers: signedHeaders([secret], id, timestamp, body), body };
}

describePython.each(kinds)("the Python client's tests against the %s stack", (kind) => {
  let stack: Stack;
  let webhooks: Webhooks | undefined;

  beforeAll(async () => {
    // A low per-user limit so the rate-limit test reaches it quickly; admins are never limited.
    stack = await startStack(kind, { env: { RATE_LIMIT_PER_SEC: '2', RATE_LIMIT_BURST: '5', ANALYSIS_LINK_HOSTS: ANALYSIS_LINK_HOST } });
    if (kind === 'services') webhooks = await startWebhooks(stack);
  }, 60_000);

  afterAll(async () => {
    await webhooks?.stop();
    await stack.stop();
  }, 30_000);

  it(
    'pass',
    async () => {
      const result = await runPytest(stack, webhooks);
      if (result.code !== 0) throw new Error(`pytest failed (exit ${result.code}) against the ${kind} stack:\n${result.output}`);
      expect(result.output).toMatch(/\d+ passed/);
      expect(result.output).not.toMatch(/\d+ (skipped|xfailed|deselected)/);
    },
    PYTEST_TIMEOUT_MS,
  );
});
