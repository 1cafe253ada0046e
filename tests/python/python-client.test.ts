import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES } from '@chat/protocol';
import { signedHeaders } from '@chat/webhooks';
import { NATS, POSTGRES, realServicesAvailable, REDIS } from '../support/services.ts';
import { startStack, type Stack, type StackKind } from '../support/stack.ts';
import { PYTHON, pythonAvailable, run } from './python-runtime.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PYTEST_TIMEOUT_MS = 240_000;

const python = await pythonAvailable();
const kinds: StackKind[] = ['embedded', ...((await realServicesAvailable(POSTGRES, REDIS, NATS)) ? (['services'] as const) : [])];
const describePython = python ? describe : describe.skip;

/** Runs clients/python's pytest suite against a stack; pytest's own output is the failure message. */
async function runPytest(stack: Stack, extraArgs: readonly string[] = []): Promise<{ code: number; output: string }> {
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
    },
  });
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

  beforeAll(async () => {
    // A low per-user limit so the rate-limit test reaches it quickly; admins are never limited.
    stack = await startStack(kind, { env: { RATE_LIMIT_PER_SEC: '2', RATE_LIMIT_BURST: '5' } });
  }, 60_000);

  afterAll(async () => {
    await stack.stop();
  }, 30_000);

  it(
    'pass',
    async () => {
      const result = await runPytest(stack);
      if (result.code !== 0) throw new Error(`pytest failed (exit ${result.code}) against the ${kind} stack:\n${result.output}`);
      expect(result.output).toMatch(/\d+ passed/);
      expect(result.output).not.toMatch(/\d+ (skipped|xfailed|deselected)/);
    },
    PYTEST_TIMEOUT_MS,
  );
});
