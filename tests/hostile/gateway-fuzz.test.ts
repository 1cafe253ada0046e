import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import fc from 'fast-check';
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_MESSAGE_CHARS, ERROR_CODES, isStorableText, parseClientFrame, type ChatMessage } from '@chat/protocol';
import { NATS, POSTGRES, realServicesAvailable, REDIS } from '../support/services.ts';
import { openFuzzSocket, type FuzzSocket, type ServerFrame } from './fuzz-socket.ts';
import { startTarget, type ProcessTarget, type TargetKind } from './process-targets.ts';

/**
 * Arbitrary frames against real gateway processes on both backends. FUZZ_RUNS and FUZZ_SEED make
 * a longer or a replayed run (see services/gateway/README.md); the defaults take about a minute.
 */
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 40);
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261201);

/** Closes a hostile peer may get: the contract's, and the WebSocket protocol's own refusals. 1011 and 1006 mean a failure. */
const ALLOWED_CLOSES = new Set([1000, 1001, 1002, 1007, 1008, 1009, 4401, 4403, 4404, 4408, 4429]);
const CONTRACT_ERRORS = new Set(Object.keys(ERROR_CODES));
const REFUSALS_OF_BAD_FRAMES = new Set(['invalid_frame', 'too_large']);

// Characters chosen to break things: NUL and controls, lone surrogates, bidi and zero-width marks,
// the BOM, noncharacters, line separators; and any code point at all.
const specialChar = fc.constantFrom('\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u200b', '\u200d', '\u202e', '\u2066', '\u2028', '\ufeff', '\ufffe', '\uffff', '"', '\\', '{', '[');
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));
const anyCodePoint = fc.string({ unit: 'binary', minLength: 1, maxLength: 1 });
const hostileChar = fc.oneof({ weight: 6, arbitrary: anyCodePoint }, { weight: 2, arbitrary: specialChar }, { weight: 1, arbitrary: loneSurrogate });
const hostileString = (maxLength = 40) => fc.string({ unit: hostileChar, maxLength });
const jsonValue = fc.jsonValue({ maxDepth: 4 });

type Action =
  | { kind: 'send'; clientMsgId: string; body: string; metadata?: unknown }
  | { kind: 'text'; text: string }
  | { kind: 'deep'; depth: number; array: boolean; where: 'metadata' | 'top' }
  | { kind: 'bytes'; bytes: Uint8Array; binary: boolean }
  | { kind: 'fragments'; text: string; cuts: number[] }
  | { kind: 'oversize'; extra: number };

const sendAction = fc.record(
  {
    kind: fc.constant('send' as const),
    clientMsgId: fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: hostileString(70) }),
    body: fc.oneof({ weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }) }, { weight: 2, arbitrary: hostileString(80) }),
    metadata: fc.oneof(fc.dictionary(hostileString(10), jsonValue, { maxKeys: 5 }), fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 5 }), jsonValue),
  },
  { requiredKeys: ['kind', 'clientMsgId', 'body'] },
);

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: sendAction },
  { weight: 2, arbitrary: fc.oneof(jsonValue.map((value) => JSON.stringify(value)), hostileString(200), fc.record({ type: fc.constantFrom('send', 'typing', 'ping', 'auth', 'x'), extra: jsonValue }).map((value) => JSON.stringify(value))).map((text) => ({ kind: 'text' as const, text })) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deep' as const), depth: fc.integer({ min: 20, max: 20_000 }), array: fc.boolean(), where: fc.constantFrom('metadata' as const, 'top' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 300 }), binary: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fragments' as const), text: sendAction.map((send) => JSON.stringify({ type: 'send', ...send, kind: undefined })), cuts: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('oversize' as const), extra: fc.integer({ min: 1, max: 2000 }) }) },
);

const scenario = fc.record({ route: fc.constantFrom('chat' as const, 'status' as const), replica: fc.nat(), actions: fc.array(action, { minLength: 1, maxLength: 12 }) });

function deepText(depth: number, array: boolean, where: 'metadata' | 'top'): string {
  const nest = array ? '['.repeat(depth) + '1' + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
  if (where === 'top') return nest;
  return `{"type":"send","clientMsgId":"deep","body":"x","metadata":${array ? `{"a":${nest}}` : nest}}`;
}

function cutsOf(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % Math.max(1, bytes.length)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    parts.push(bytes.subarray(from, point));
    from = point;
  }
  parts.push(bytes.subarray(from));
  return parts;
}

async function perform(socket: FuzzSocket, step: Action): Promise<void> {
  switch (step.kind) {
    case 'send': {
      const { kind: _kind, ...fields } = step;
      return socket.sendText(JSON.stringify({ type: 'send', ...fields }));
    }
    case 'text':
      return socket.sendText(step.text);
    case 'deep':
      return socket.sendText(deepText(step.depth, step.array, step.where));
    case 'bytes':
      return step.binary ? socket.sendBinary(step.bytes) : socket.sendText(Buffer.from(step.bytes));
    case 'fragments':
      return socket.sendFragments(cutsOf(Buffer.from(step.text, 'utf8'), step.cuts));
    case 'oversize':
      return socket.sendText(JSON.stringify({ type: 'send', clientMsgId: 'big', body: 'x'.repeat(DEFAULT_MAX_FRAME_BYTES + step.extra) }));
  }
}

/** The clientMsgIds of the sends the protocol accepts, each of which must get an ack or an error naming it. */
function expectedAnswers(route: 'chat' | 'status', actions: readonly Action[]): string[] {
  if (route === 'status') return [];
  const texts = actions.flatMap((step) => (step.kind === 'send' ? [JSON.stringify({ type: 'send', ...step, kind: undefined })] : step.kind === 'fragments' ? [step.text] : []));
  return texts.flatMap((text) => {
    const parsed = parseClientFrame(text, { maxMessageChars: DEFAULT_MAX_MESSAGE_CHARS });
    return parsed.ok && parsed.frame.type === 'send' ? [parsed.frame.clientMsgId] : [];
  });
}

/** What a send carried, keyed by clientMsgId, to compare with what was acked and stored. */
interface Sent {
  body: unknown;
  metadata: unknown;
}

function sentOf(step: Action, sent: Map<string, Sent>): void {
  if (step.kind === 'send' && !sent.has(step.clientMsgId)) sent.set(step.clientMsgId, { body: step.body, metadata: step.metadata });
  if (step.kind === 'fragments') {
    const frame = JSON.parse(step.text) as { clientMsgId: string; body: string; metadata?: unknown };
    if (!sent.has(frame.clientMsgId)) sent.set(frame.clientMsgId, { body: frame.body, metadata: frame.metadata });
  }
}

/** FUZZ_BACKENDS=services (or embedded) runs one backend only. */
const kinds = (process.env['FUZZ_BACKENDS'] ?? 'services,embedded').split(',').filter((kind): kind is TargetKind => kind === 'services' || kind === 'embedded');

// Missing services: the loud message (a failure in CI) and the services suite skipped, never passed empty.
const servicesUp = kinds.includes('services') ? await realServicesAvailable(POSTGRES, REDIS, NATS) : false;

describe.each(kinds.filter((kind) => kind !== 'services' || servicesUp))('hostile frames against real %s processes', (kind) => {
  let target: ProcessTarget | undefined;
  const control: FuzzSocket[] = [];
  const userId = randomUUID();
  let controlSession = '';

  beforeAll(async () => {
    target = await startTarget(kind);
    controlSession = await createSession(target, [userId]);
    // A well-behaved client on every replica, which must keep being served throughout.
    for (let replica = 0; replica < target.gatewayUrls.length; replica++) control.push(await openFuzzSocket(await chatUrl(target, replica, controlSession, userId)));
  }, 180_000);

  afterAll(async () => {
    for (const socket of control) socket.close();
    await target?.stop();
  }, 60_000);

  /** Every process still runs and every replica still answers its well-behaved client. */
  async function expectServing(current: ProcessTarget): Promise<void> {
    expect(current.running()).toBe(true);
    for (const socket of control) {
      const nonce = randomUUID();
      await socket.sendText(JSON.stringify({ type: 'send', clientMsgId: nonce, body: 'still there?' }));
      const ack = await socket.until((frame) => frame.type === 'ack' && frame['clientMsgId'] === nonce);
      expect(ack).toBeDefined();
    }
  }

  it('stays up, answers only contract codes, persists every ack and spends no seq on a refused frame', async () => {
    if (!target) throw new Error('the target did not start');
    const current = target;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ route, replica, actions }) => {
        const sessionId = await createSession(current, [userId]);
        const url = route === 'chat' ? await chatUrl(current, replica, sessionId, userId) : await statusUrl(current, replica, sessionId, userId);
        const socket = await openFuzzSocket(url);
        const sent = new Map<string, Sent>();
        try {
          for (const step of actions) {
            if (socket.closed) break;
            if (route === 'chat') sentOf(step, sent);
            await perform(socket, step);
          }
          // A ping last: once its pong is in, every earlier frame has been read; sends answer later, once durable.
          await socket.sendText('{"type":"ping"}');
          await socket.until((frame) => frame.type === 'pong', 15_000);
          // A refused frame may name the same clientMsgId; only an ack or a refusal of a valid send answers one.
          for (const clientMsgId of expectedAnswers(route, actions)) {
            await socket.until((frame) => frame['clientMsgId'] === clientMsgId && (frame.type === 'ack' || (frame.type === 'error' && !REFUSALS_OF_BAD_FRAMES.has(String(frame['code'])))), 15_000);
          }
        } finally {
          socket.close();
        }
        expectOnlyContractAnswers(socket);
        if (route === 'chat') await expectAcksDurableAndSeqsDense(current, sessionId, userId, replica, socket.frames, sent, new Set(expectedAnswers(route, actions)));
        await expectServing(current);
      }),
      { numRuns: RUNS, seed: SEED, interruptAfterTimeLimit: 10 * 60_000 },
    );
  }, 15 * 60_000);

  it('survives metadata nested thousands of levels deep on both routes (finding 1)', async () => {
    if (!target) throw new Error('the target did not start');
    const sessionId = await createSession(target, [userId]);
    for (const route of ['chat', 'status'] as const) {
      const url = route === 'chat' ? await chatUrl(target, 0, sessionId, userId) : await statusUrl(target, 0, sessionId, userId);
      const socket = await openFuzzSocket(url);
      await socket.sendText(deepText(3000, false, 'metadata'));
      const error = await socket.until((frame) => frame.type === 'error');
      expect(error).toMatchObject({ type: 'error', code: 'invalid_frame' });
      socket.close();
    }
    await expectServing(target);
    expect(await headOf(target, sessionId, userId)).toBe(0);
  }, 60_000);

  it('refuses text PostgreSQL cannot keep with invalid_frame and reserves nothing (finding 2)', async () => {
    if (!target) throw new Error('the target did not start');
    const sessionId = await createSession(target, [userId]);
    const socket = await openFuzzSocket(await chatUrl(target, 0, sessionId, userId));
    const hostile = [
      { type: 'send', clientMsgId: 'nul-body', body: 'a\u0000b' },
      { type: 'send', clientMsgId: 'nul-value', body: 'ok', metadata: { k: '\u0000' } },
      { type: 'send', clientMsgId: 'nul-key', body: 'ok', metadata: { ['k\u0000']: 1 } },
      { type: 'send', clientMsgId: 'lone-surrogate', body: 'x\ud800' },
    ];
    for (const frame of hostile) await socket.sendText(JSON.stringify(frame));
    await socket.sendText(JSON.stringify({ type: 'send', clientMsgId: 'fine', body: 'fine \ud83d\ude00' }));
    const ack = await socket.until((frame) => frame.type === 'ack');
    expect(ack).toMatchObject({ clientMsgId: 'fine', seq: 1 });
    const errors = socket.frames.filter((frame) => frame.type === 'error');
    expect(errors.map((frame) => [frame['clientMsgId'], frame['code']])).toEqual(hostile.map((frame) => [frame.clientMsgId, 'invalid_frame']));
    socket.close();
    const stored = await target.persisted(sessionId, 1);
    expect(stored.map((message) => [message.seq, message.body])).toEqual([[1, 'fine \ud83d\ude00']]);
  }, 60_000);

  it('drops a peer that writes raw garbage after the upgrade and keeps serving others', async () => {
    if (!target) throw new Error('the target did not start');
    const url = new URL(target.gatewayUrls[0] ?? '');
    const jwt = await target.token({ userId });
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.resume();
    socket.write(`GET /ws/chat/${controlSession}?token=${jwt} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${Buffer.alloc(16, 7).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Unmasked frames with reserved opcodes and absurd lengths.
    socket.write(Buffer.from([0x8f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02, 0x03]));
    const since = Date.now();
    await ended;
    // Dropped after the close grace, not after ws's 30 s wait for a close frame that never comes (finding 8).
    expect(Date.now() - since).toBeLessThan(15_000);
    await expectServing(target);
  }, 60_000);
});

function expectOnlyContractAnswers(socket: FuzzSocket): void {
  expect(socket.malformed).toEqual([]);
  for (const frame of socket.frames) {
    if (frame.type === 'error') expect(CONTRACT_ERRORS.has(String(frame['code']))).toBe(true);
  }
  if (socket.closed && !ALLOWED_CLOSES.has(socket.closed.code)) throw new Error(`closed with ${socket.closed.code} (${socket.closed.reason}), which no hostile frame should cause`);
}

/**
 * Every ack's message is in the system of record as sent, and every seq up to the session's head
 * belongs to a send the protocol accepts: a refused frame consumed no seq. (A valid send may be
 * stored without its ack reaching the client, when a later frame closed the socket first.)
 */
async function expectAcksDurableAndSeqsDense(
  target: ProcessTarget,
  sessionId: string,
  userId: string,
  replica: number,
  frames: readonly ServerFrame[],
  sent: ReadonlyMap<string, Sent>,
  validIds: ReadonlySet<string>,
): Promise<void> {
  const acks = new Map<string, ServerFrame>();
  for (const frame of frames.filter((candidate) => candidate.type === 'ack')) {
    const clientMsgId = String(frame['clientMsgId']);
    const first = acks.get(clientMsgId);
    if (first) expect([frame['id'], frame['seq']]).toEqual([first['id'], first['seq']]);
    else acks.set(clientMsgId, frame);
  }
  const head = await headOf(target, sessionId, userId, replica);
  expect(head).toBeGreaterThanOrEqual(acks.size);
  expect(head).toBeLessThanOrEqual(validIds.size);
  if (head === 0) return;
  const stored = await target.persisted(sessionId, head);
  expect(stored.map((message) => message.seq)).toEqual(stored.map((_, index) => index + 1));
  for (const message of stored) expect(validIds.has(message.clientMsgId ?? '')).toBe(true);
  for (const [clientMsgId, ack] of acks) {
    const what = sent.get(clientMsgId);
    expect(what).toBeDefined();
    expect(isStorableText(String(what?.body))).toBe(true);
    const row = stored.find((message: ChatMessage) => message.id === ack['id']);
    expect(row).toMatchObject({ seq: ack['seq'], clientMsgId, body: what?.body, metadata: what?.metadata ?? {} });
  }
}

/** The session's head, as the welcome of a fresh connection reports it. */
async function headOf(target: ProcessTarget, sessionId: string, userId: string, replica = 0): Promise<number> {
  const socket = await openFuzzSocket(await chatUrl(target, replica, sessionId, userId));
  socket.close();
  const welcome = socket.frames.find((frame) => frame.type === 'welcome');
  if (!welcome) throw new Error(`no welcome: ${JSON.stringify(socket.frames)} ${JSON.stringify(socket.closed)}`);
  return Number(welcome['seq']);
}

async function chatUrl(target: ProcessTarget, replica: number, sessionId: string, userId: string): Promise<string> {
  return `${wsBase(target, replica)}/ws/chat/${sessionId}?token=${await target.token({ userId })}`;
}

async function statusUrl(target: ProcessTarget, replica: number, sessionId: string, userId: string): Promise<string> {
  return `${wsBase(target, replica)}/ws/status/${sessionId}?token=${await target.token({ userId })}`;
}

function wsBase(target: ProcessTarget, replica: number): string {
  const base = target.gatewayUrls[replica % target.gatewayUrls.length];
  if (base === undefined) throw new Error('no gateway');
  return base.replace(/^http/, 'ws');
}

/** A session made through REST by a fresh admin each time, so no per-user creation limit is reached. */
async function createSession(target: ProcessTarget, members: readonly string[]): Promise<string> {
  const jwt = await target.token({ userId: randomUUID(), admin: true });
  const response = await fetch(`${target.apiUrl}/api/chat/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'hostile', members }),
  });
  if (response.status !== 201) throw new Error(`creating a session answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}
