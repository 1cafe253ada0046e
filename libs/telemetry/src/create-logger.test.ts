import { Writable } from 'node:stream';
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { createLogger, redactUrl } from './create-logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
      done();
    },
  });
  return { lines, stream, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl';
const BODY = 'the secret plans are in the blue folder';

describe('createLogger', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(contextManager.enable());
  });
  afterAll(() => {
    context.disable();
  });

  it('writes one JSON object per line with the service name and a string level', () => {
    const out = capture();
    createLogger('gateway', 'info', out.stream).info({ sessionId: 's1' }, 'connected');
    const [line] = out.parsed();
    expect(line).toMatchObject({ service: 'gateway', level: 'info', msg: 'connected', sessionId: 's1' });
  });

  it('never writes tokens, authorization headers or message bodies, however deep they sit', () => {
    const out = capture();
    const log = createLogger('gateway', 'info', out.stream);
    log.info({ token: TOKEN }, 'top-level token');
    log.info({ authorization: `Bearer ${TOKEN}` }, 'top-level header');
    log.info({ headers: { authorization: `Bearer ${TOKEN}`, cookie: `sid=${TOKEN}` } }, 'headers');
    log.info({ query: { token: TOKEN } }, 'query');
    log.info({ body: BODY }, 'top-level body');
    log.info({ frame: { type: 'send', body: BODY } }, 'frame');
    log.info({ message: { body: BODY, id: 'm1' } }, 'message');
    log.info({ request: { message: { body: BODY } } }, 'nested two deep');
    log.info({ req: { method: 'GET', url: `/ws/chat/abc?token=${TOKEN}&lastSeq=4`, headers: { authorization: TOKEN } } }, 'request');
    log.info({ url: `/ws/status/abc?token=${TOKEN}` }, 'url');
    log.info({ batch: { messages: [{ id: 'm1', body: BODY }, { id: 'm2', body: BODY }] } }, 'batch of messages');
    log.info({ err: Object.assign(new Error('insert failed'), { body: BODY }) }, 'error with a body');
    log.child({ token: TOKEN, sessionId: 's1' }).child({ authorization: TOKEN }).info({ body: BODY }, 'child loggers');
    log.error(Object.assign(new Error('write failed', { cause: new Error('pool') }), { body: BODY }));
    expect(out.lines).toHaveLength(14);
    for (const line of out.lines) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain(BODY);
    }
    const parsed = out.parsed();
    expect(parsed[6]).toMatchObject({ message: { body: '[redacted]', id: 'm1' } });
    expect(parsed[8]).toMatchObject({ req: { method: 'GET', url: '/ws/chat/abc?token=%5Bredacted%5D&lastSeq=4' } });
    expect(parsed[11]).toMatchObject({ err: { type: 'Error', message: 'insert failed', body: '[redacted]' } });
    expect(parsed[12]).toMatchObject({ sessionId: 's1', token: '[redacted]', authorization: '[redacted]', body: '[redacted]' });
    expect(parsed[13]).toMatchObject({ msg: 'write failed', err: { type: 'Error', message: 'write failed: pool' } });
  });

  it('puts the active trace id and span id on every line written inside a span', () => {
    const out = capture();
    const log = createLogger('persister', 'info', out.stream);
    const tracer = new TracerProvider().getTracer('test');
    const span = tracer.startSpan('write');
    context.with(trace.setSpan(context.active(), span), () => {
      log.info('inside');
      log.warn({ batch: 3 }, 'still inside');
    });
    span.end();
    log.info('outside');
    const [inside, stillInside, outside] = out.parsed();
    const { traceId, spanId } = span.spanContext();
    expect(inside).toMatchObject({ trace_id: traceId, span_id: spanId, trace_flags: '01' });
    expect(stillInside).toMatchObject({ trace_id: traceId, span_id: spanId });
    expect(outside).not.toHaveProperty('trace_id');
  });

  it('takes the level from LOG_LEVEL when none is given and ignores unknown levels', () => {
    const previous = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'warn';
    try {
      expect(createLogger('session-api', undefined, capture().stream).level).toBe('warn');
      expect(createLogger('session-api', 'debug', capture().stream).level).toBe('debug');
      expect(createLogger('session-api', 'loud', capture().stream).level).toBe('info');
    } finally {
      if (previous === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = previous;
    }
  });
});

describe('redactUrl', () => {
  it('replaces the token query parameter and keeps the rest', () => {
    expect(redactUrl('/ws/chat/x?lastSeq=2&token=abc')).toBe('/ws/chat/x?lastSeq=2&token=%5Bredacted%5D');
    expect(redactUrl('/api/chat/sessions')).toBe('/api/chat/sessions');
  });
});
