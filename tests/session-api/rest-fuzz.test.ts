import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect as connectTcp } from 'node:net';
import { signToken } from '@chat/auth';
import { createDatabase, KyselyChatStore, migrateToLatest } from '@chat/db';
import { ERROR_CODES, type ChatMessage } from '@chat/protocol';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import fc from 'fast-check';
import { describeWithServices, NATS, POSTGRES, REDIS, TEST_DATABASE_URL, TEST_NATS_URL, TEST_REDIS_URL } from '../support/services.ts';
import { startServiceProcess, type ServiceProcess } from '../support/service-process.ts';

/*
 * Property-based fuzzing of the REST API against real processes: a session-api and a persister
 * started from their main.ts over the real Redis, NATS JetStream and PostgreSQL. Arbitrary
 * methods, raw paths, headers and bodies (JSON of any depth and size, strings from every Unicode
 * category including U+0000 and unpaired surrogates, random bytes). Properties:
 *   - the process stays up and keeps serving;
 *   - every answer is a 2xx, or a 4xx whose body is the contract's error body with a registered
 *     code; never a 5xx;
 *   - every 201 for a posted message is followed by its row in PostgreSQL, as acknowledged;
 *   - no seq is consumed by a refused body: the acknowledged seqs of a session are 1..n.
 * Seeded and bounded (FUZZ_SEED, FUZZ_RUNS, FUZZ_SECONDS; see services/session-api/README.md).
 */

const describe = await describeWithServices(POSTGRES, REDIS, NATS);

const SEED = Number(process.env['FUZZ_SEED'] ?? 1111);
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 10000);
const SECONDS = Number(process.env['FUZZ_SECONDS'] ?? 45);

const secret = randomBytes(32).toString('hex');
const run = randomBytes(6).toString('hex');
const stream = `FUZZ_API_${run}`;
const member = randomUUID();
const otherMember = randomUUID();
const stranger = randomUUID();
const admin = randomUUID();

let api: ServiceProcess | undefined;
let persister: ServiceProcess | undefined;
let port = 0;
let store: KyselyChatStore;
let sessionId = '';
let closedSessionId = '';
const tokens: Record<string, string> = {};

/** Every 201 message the API answered, by id; each must reach PostgreSQL as answered. */
const acknowledged = new Map<string, ChatMessage>();
const statusCounts = new Map<number, number>();

interface Answer {
  status: number;
  text: string;
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  /** Sent over a raw socket, so the request line itself may be anything. */
  raw?: Buffer;
}

async function setUp(): Promise<void> {
  const db = createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 1 });
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
  store = new KyselyChatStore(createDatabase({ kind: 'postgres', url: TEST_DATABASE_URL, maxConnections: 2 }));
  const env = {
    NODE_ENV: 'test',
    JWT_SECRET: secret,
    HOST: '127.0.0.1',
    API_PORT: '0',
    PERSISTER_PORT: '0',
    REDIS_URL: TEST_REDIS_URL,
    NATS_URL: TEST_NATS_URL,
    DATABASE_URL: TEST_DATABASE_URL,
    NATS_STREAM: stream,
    NATS_SUBJECT_PREFIX: `fuzz.api.${run}`,
    NATS_CONSUMER: `fuzz_${run}`,
    // The fuzz is about input, not about limits: both limits are set out of its way here, explicitly.
    RATE_LIMIT_PER_SEC: '100000',
    RATE_LIMIT_BURST: '100000',
    SESSION_CREATE_PER_MIN: '100000',
    MAX_MESSAGE_CHARS: '200',
    LOG_LEVEL: 'info',
  };
  const started = await startServiceProcess('session-api', { ...env, INSTANCE_ID: `fuzz-api-${run}` }, (line) => (line['msg'] === 'listening' && typeof line['port'] === 'number' ? line['port'] : undefined));
  api = started.process;
  port = started.ready;
  persister = (await startServiceProcess('persister', { ...env, INSTANCE_ID: `fuzz-persister-${run}` }, (line) => (line['msg'] === 'persister running' ? true : undefined))).process;

  tokens['member'] = await signToken(secret, { userId: member, name: 'Fuzz' });
  tokens['other'] = await signToken(secret, { userId: otherMember });
  tokens['stranger'] = await signToken(secret, { userId: stranger });
  tokens['admin'] = await signToken(secret, { userId: admin, admin: true });
  tokens['expired'] = await signToken(secret, { userId: member, ttlSeconds: -60 });
  sessionId = (JSON.parse((await send(jsonPost('/api/chat/sessions', 'admin', { title: 'fuzz', members: [member, otherMember] }))).text) as { id: string }).id;
  closedSessionId = (JSON.parse((await send(jsonPost('/api/chat/sessions', 'admin', { members: [member] }))).text) as { id: string }).id;
  expect((await send({ method: 'DELETE', path: `/api/chat/sessions/${closedSessionId}`, headers: { authorization: `Bearer ${tokens['admin']}` }, body: undefined })).status).toBe(204);
}

async function tearDown(): Promise<void> {
  await persister?.stop();
  await api?.stop();
  await store.close();
  const nc = await connect({ servers: TEST_NATS_URL });
  try {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
  } finally {
    await nc.close();
  }
}

function jsonPost(path: string, who: string, body: unknown): FuzzRequest {
  return { method: 'POST', path, headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(body)) };
}

/** Sends one request; a request Node's client refuses to write is sent over a raw socket instead. */
function send(req: FuzzRequest): Promise<Answer> {
  if (req.raw !== undefined) return sendRaw(req.raw);
  return new Promise((resolve, reject) => {
    // A connection per request: when the server answers before a large body is sent and closes,
    // Node's pooled client may reuse the socket. Node's client also sends a DELETE or OPTIONS body
    // without framing unless told its length.
    const headers = req.body === undefined ? req.headers : { ...req.headers, 'content-length': String(req.body.length) };
    const outgoing = httpRequest({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    outgoing.setTimeout(20_000, () => outgoing.destroy(new Error(`no answer within 20 s to ${req.method} ${req.path}`)));
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

function sendRaw(bytes: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(20_000, () => socket.destroy(new Error('no answer within 20 s to a raw request')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', ...rest] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), text: rest.join('\r\n\r\n') });
    });
    socket.on('connect', () => socket.end(bytes));
  });
}

// ---- arbitraries ----

/** One UTF-16 unit or code point from anywhere: controls, format (bidi, zero-width), private use, noncharacters, lone surrogates. */
const hostileUnit = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)) },
  { weight: 2, arbitrary: fc.constantFrom('\u0000', '\u0001', '\u007f', '\u0085', '\u200b', '\u200d', '\u202e', '\u2066', '\u2028', '\ufeff', '\ud800', '\udfff', '\ufffe', '\uffff', '\u{10ffff}', '\u{e0001}', '\u{1f600}') },
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
);
const hostileString = fc.string({ unit: hostileUnit, maxLength: 60 });
const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 6 }),
  ),
})).value;

/** Nesting far past any bound in a few KB: `{"a":{"a":...}}` or `[[[...]]]`. */
const deepText = fc
  .tuple(fc.integer({ min: 1, max: 20_000 }), fc.boolean())
  .map(([depth, objects]) => (objects ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth)));

const asText = (arbitrary: fc.Arbitrary<unknown>) => arbitrary.map((value) => JSON.stringify(value));

/** A body shaped like the API's, as JSON text (deep values stay text: the test must not recurse either). */
const messageLike = fc
  .record(
    {
      body: fc.oneof(asText(fc.oneof(hostileString, fc.constant(''), fc.string({ maxLength: 400 }))), asText(hostileJson)),
      clientMsgId: asText(fc.oneof(hostileString, fc.string({ maxLength: 80 }), hostileJson)),
      metadata: fc.oneof(asText(hostileJson), asText(fc.dictionary(hostileString, hostileJson, { maxKeys: 8 })), deepText),
      title: asText(fc.oneof(hostileString, hostileJson)),
      members: fc.oneof(asText(fc.array(fc.oneof(fc.uuid(), hostileString), { maxLength: 4 })), asText(hostileJson), deepText),
      userIds: fc.oneof(asText(fc.array(fc.oneof(fc.uuid(), fc.constant(member), hostileString), { maxLength: 4 })), asText(hostileJson), deepText),
      extra: asText(hostileJson),
    },
    { requiredKeys: [] },
  )
  .map((fields) => `{${Object.entries(fields).map(([key, text]) => `${JSON.stringify(key)}:${text}`).join(',')}}`);

const body: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: messageLike.map((text) => Buffer.from(text)) },
  { weight: 2, arbitrary: asText(hostileJson).map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: deepText.map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
  { weight: 1, arbitrary: hostileString.map((text) => Buffer.from(text)) },
  { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 200_000 }).map((size) => Buffer.from(JSON.stringify({ body: 'x'.repeat(size) }))) },
);

const contentType = fc.constantFrom<string | undefined>(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'text/plain',
  'application/x-www-form-urlencoded',
  'application/json; charset',
  undefined,
);

/** A path segment the server may be given: a real id, its upper case, or anything a raw request line can hold. */
const segment = fc.oneof(
  { weight: 5, arbitrary: fc.constant('SESSION') },
  { weight: 1, arbitrary: fc.constant('CLOSED') },
  { weight: 1, arbitrary: fc.constant('SESSION-UPPER') },
  { weight: 1, arbitrary: fc.uuid() },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom('%', '0', 'f', 'E', 'z', 'ä', '.', '/', '\\', ';', '~', '%00', '%ff', '%E0%A4%A', '%c0%af', '%2F'), maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x21, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength: 12 }) },
);

const query = fc.oneof(
  fc.constant(''),
  fc.record({ limit: fc.oneof(fc.nat(), fc.integer(), fc.string({ maxLength: 6 })), before: fc.oneof(fc.nat(), fc.string({ maxLength: 6 })), after: fc.oneof(fc.nat(), fc.string({ maxLength: 6 })) }, { requiredKeys: [] }).map((q) => `?${new URLSearchParams(Object.entries(q).map(([k, v]) => [k, String(v)])).toString()}`),
  fc.string({ unit: fc.integer({ min: 0x21, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength: 20 }).map((text) => `?${text}`),
);

const path = fc
  .tuple(
    fc.constantFrom('/api/chat/sessions', '/api/chat/sessions/{s}', '/api/chat/sessions/{s}/members', '/api/chat/sessions/{s}/messages', '/api/chat/history/{s}', '/api/{s}', '/{s}', '/healthz', '/readyz', '/openapi.json', '/api/chat/sessions/{s}/messages/{s}'),
    segment,
    query,
  )
  .map(([template, seg, q]) => template.replaceAll('{s}', seg) + q);

const method = fc.constantFrom('GET', 'POST', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD');
const who = fc.constantFrom('member', 'member', 'member', 'other', 'stranger', 'admin', 'expired', 'none', 'garbage');

/** A plausible post to the member's session, so many requests get deep into the message path. */
const plausiblePost = fc
  .record({ body: fc.string({ unit: hostileUnit, minLength: 1, maxLength: 40 }), clientMsgId: fc.option(fc.string({ unit: hostileUnit, minLength: 1, maxLength: 20 }), { nil: undefined }), metadata: fc.option(fc.dictionary(hostileString, hostileJson, { maxKeys: 4 }), { nil: undefined }) }, { requiredKeys: ['body'] })
  .map((value): FuzzRequest => ({ method: 'POST', path: '/api/chat/sessions/SESSION/messages', headers: { 'content-type': 'application/json', authorization: 'TOKEN:member' }, body: Buffer.from(JSON.stringify(value)) }));

const generalRequest = fc.record({ method, path, who, contentType, body }).map(({ method: m, path: p, who: w, contentType: type, body: b }): FuzzRequest => {
  const headers: Record<string, string> = {};
  if (w !== 'none') headers['authorization'] = `TOKEN:${w}`;
  if (type !== undefined) headers['content-type'] = type;
  return { method: m, path: p, headers, body: m === 'GET' || m === 'HEAD' ? undefined : b };
});

/** A request line and headers of any bytes, for what Node's own client would refuse to write. */
const rawRequest = fc
  .tuple(fc.constantFrom('GET', 'POST', 'BREW', 'G E T', ''), fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.option(fc.uint8Array({ maxLength: 60 }), { nil: undefined }))
  .map(([m, target, header]): FuzzRequest => {
    const bytes = Buffer.concat([Buffer.from(`${m} /api/chat/sessions/`), Buffer.from(target), Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n'), header === undefined ? Buffer.alloc(0) : Buffer.concat([Buffer.from(header), Buffer.from('\r\n')]), Buffer.from('\r\n')]);
    return { method: m, path: '(raw)', headers: {}, body: undefined, raw: bytes };
  });

const fuzzRequest = fc.oneof({ weight: 5, arbitrary: generalRequest }, { weight: 4, arbitrary: plausiblePost }, { weight: 1, arbitrary: rawRequest });

/** Fills in the ids and tokens the arbitraries name symbolically, so shrunk cases stay readable. */
function resolve(req: FuzzRequest): FuzzRequest {
  const ids = (text: string) => text.replaceAll('SESSION-UPPER', sessionId.toUpperCase()).replaceAll('SESSION', sessionId).replaceAll('CLOSED', closedSessionId);
  const headers = { ...req.headers };
  const auth = headers['authorization'];
  if (auth?.startsWith('TOKEN:')) {
    const name = auth.slice('TOKEN:'.length);
    headers['authorization'] = name === 'garbage' ? 'Bearer not.a.token' : `Bearer ${tokens[name] ?? ''}`;
  }
  return { ...req, path: ids(req.path), headers };
}

/** The property every single answer must hold; returns the message when it is an acknowledged post. */
function checkAnswer(req: FuzzRequest, answer: Answer): void {
  statusCounts.set(answer.status, (statusCounts.get(answer.status) ?? 0) + 1);
  const what = `${req.method} ${req.path} -> ${answer.status} ${answer.text.slice(0, 300)}`;
  expect({ what, server: answer.status >= 500 || answer.status < 200 }).toEqual({ what, server: false });
  if (answer.status >= 400) {
    if (req.method === 'HEAD') return;
    const parsed = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
    expect(Object.keys(parsed)).toEqual(['error']);
    const code = parsed.error?.code;
    expect(typeof code === 'string' && code in ERROR_CODES ? code : `unregistered code in ${what}`).toBe(code);
    expect(typeof parsed.error?.message).toBe('string');
    // Express answers with the registry's status; the HTTP parser's own refusals may be 408 or 431.
    if (answer.status !== 408 && answer.status !== 431) expect({ what, status: ERROR_CODES[code as keyof typeof ERROR_CODES].status }).toEqual({ what, status: answer.status });
    return;
  }
  if (answer.status === 201 && req.method === 'POST' && /\/messages$/.test(req.path.split('?')[0] ?? '')) {
    const message = JSON.parse(answer.text) as ChatMessage;
    expect(message.type).toBe('message');
    const earlier = acknowledged.get(message.id);
    // A repeat (same clientMsgId) answers with the first message, unchanged.
    if (earlier !== undefined) expect(message).toEqual(earlier);
    acknowledged.set(message.id, message);
  }
}

async function stillServing(): Promise<void> {
  expect(api?.alive()).toBe(true);
  const health = await send({ method: 'GET', path: '/healthz', headers: {}, body: undefined });
  expect(health).toEqual({ status: 200, text: '{"status":"ok"}' });
}

describe('the session-api process under arbitrary REST input', () => {
  beforeAll(setUp, 120_000);
  afterAll(tearDown);

  it(
    'answers every request with a 2xx or a contract 4xx, stays up, stores every acknowledged message and consumes no seq for a refused one',
    async () => {
      let count = 0;
      await fc.assert(
        fc.asyncProperty(fuzzRequest, async (symbolic) => {
          const req = resolve(symbolic);
          checkAnswer(req, await send(req));
          if (++count % 50 === 0) await stillServing();
        }),
        { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: SECONDS * 1000, markInterruptAsFailure: false },
      );
      await stillServing();
      process.stdout.write(`rest fuzz: seed ${SEED}, ${count} requests, statuses ${JSON.stringify(Object.fromEntries([...statusCounts].sort(([a], [b]) => a - b)))}, ${acknowledged.size} messages acknowledged\n`);

      // Enough of the requests reached the message path for the last two properties to mean something.
      expect(acknowledged.size).toBeGreaterThan(100);
      const mine = [...acknowledged.values()].filter((message) => message.sessionId === sessionId).sort((a, b) => a.seq - b.seq);
      expect(mine.map((message) => message.seq)).toEqual(mine.map((_, index) => index + 1));

      const deadline = Date.now() + 60_000;
      let stored: ChatMessage[] = [];
      while (Date.now() < deadline) {
        stored = [];
        for (let after = 0; ; ) {
          const page = await store.history(sessionId, { after, limit: 500 });
          stored.push(...page.messages);
          if (!page.hasMore || page.messages.length === 0) break;
          after = page.messages.at(-1)?.seq ?? after;
        }
        if (stored.length >= mine.length) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(stored).toEqual(mine);
      expect(await store.maxSeq(sessionId)).toBe(mine.length);
      expect(persister?.alive()).toBe(true);
    },
    (SECONDS + 150) * 1000,
  );
});
