import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { GAP_USER_ID } from '@chat/protocol';
import type { SendRecord } from './fleet.ts';
import { addViewCounts, countOutcome, viewCounts, type ClientView, type StoredRow } from './outcome-check.ts';

const S = '00000000-0000-4000-8000-000000000001';
const U = '00000000-0000-4000-8000-0000000000aa';

function send(n: number, ack: boolean, phase = 1): SendRecord {
  return { clientMsgId: `c${n}`, sessionId: S, userId: U, via: 'ws', phase, attempts: 1, ...(ack ? { ack: { id: `id${n}`, seq: n } } : {}) };
}
function row(n: number, seq = n, clientMsgId = `c${n}`, id = `id${n}`): StoredRow {
  return { id, session_id: S, seq: String(seq), user_id: U, client_msg_id: clientMsgId };
}
function view(seqs: readonly number[], welcomeHead = 0): ClientView {
  return { sessionId: S, welcomeHead, messages: seqs.map((seq) => ({ id: `id${seq}`, seq, userId: U, clientMsgId: `c${seq}` })) };
}

describe('countOutcome', () => {
  it('counts nothing wrong when every acked send is stored once and seen once', () => {
    const sends = [send(1, true), send(2, true), send(3, true)];
    const rows = [row(1), row(2), row(3)];
    expect(countOutcome(1, sends, rows, [view([1, 2, 3]), view([3], 2)])).toEqual({
      sent: 3,
      acked: 3,
      ackedAfterUnavailable: 0,
      unacked: 0,
      stored: 3,
      lost: 0,
      doubled: 0,
      holes: 0,
      strangers: 0,
      viewHoles: 0,
      viewDoubled: 0,
      viewMismatched: 0,
    });
  });

  it('counts an acked send missing from the store as lost, and its seq as a hole', () => {
    const tally = countOutcome(1, [send(1, true), send(2, true), send(3, true)], [row(1), row(3)], []);
    expect(tally).toMatchObject({ lost: 1, holes: 1, stored: 2 });
  });

  it('counts an acked send stored under another seq than its ack as lost', () => {
    expect(countOutcome(1, [send(1, true)], [row(1, 2)], []).lost).toBe(1);
  });

  it('counts a resend stored a second time as doubled, whatever id the ack carried', () => {
    const rows = [row(1), row(2, 2, 'c1', 'second')];
    expect(countOutcome(1, [send(1, true)], rows, [])).toMatchObject({ doubled: 1, lost: 0, stored: 2 });
  });

  it('counts a stored message that no client sent as a stranger', () => {
    expect(countOutcome(1, [send(1, true)], [row(1), row(2, 2, 'never-sent')], []).strangers).toBe(1);
  });

  it('takes a gap record for the seal of a seq, not for a stranger, and it fills the seq', () => {
    const gap: StoredRow = { id: 'gap2', session_id: S, seq: '2', user_id: GAP_USER_ID, client_msg_id: null };
    expect(countOutcome(1, [send(1, true), send(3, true)], [row(1), gap, row(3)], [])).toMatchObject({ strangers: 0, holes: 0, lost: 0 });
  });

  it('charges only the sends of the given phase, but unacked ones too', () => {
    const tally = countOutcome(2, [send(1, true, 1), send(2, false, 2)], [row(1)], []);
    expect(tally).toMatchObject({ sent: 1, acked: 0, unacked: 1, lost: 0 });
  });

  it('counts seqs a client lacks after its welcome, messages it holds twice, and ones that differ from the store', () => {
    const rows = [row(1), row(2), row(3), row(4)];
    expect(countOutcome(1, [], rows, [view([2, 4], 1)]).viewHoles).toBe(1);
    const twice: ClientView = { sessionId: S, welcomeHead: 0, messages: [...view([1, 2, 3, 4]).messages, { id: 'id5', seq: 5, userId: U, clientMsgId: 'c1' }] };
    expect(countOutcome(1, [], [...rows, row(5, 5, 'c1', 'id5')], [twice]).viewDoubled).toBe(1);
    const other: ClientView = { sessionId: S, welcomeHead: 0, messages: [{ id: 'elsewhere', seq: 1, userId: U }] };
    expect(countOutcome(1, [], [row(1)], [other]).viewMismatched).toBe(1);
  });
});

describe('viewCounts split by the clients\' processes', () => {
  const SESSIONS = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-00000000000c'];
  const storedRow = fc.record({ session: fc.integer({ min: 0, max: 2 }), seq: fc.integer({ min: 1, max: 12 }), id: fc.integer({ min: 0, max: 4 }) });
  const clientView = fc.record({
    session: fc.integer({ min: 0, max: 2 }),
    welcomeHead: fc.integer({ min: 0, max: 6 }),
    messages: fc.array(fc.record({ seq: fc.integer({ min: 1, max: 12 }), id: fc.integer({ min: 0, max: 4 }), sender: fc.integer({ min: 0, max: 3 }) }), { maxLength: 14 }),
  });

  it('finds in each process, from its own sessions\' rows, exactly what one check of every view against every row finds', () => {
    fc.assert(
      fc.property(fc.array(storedRow, { maxLength: 30 }), fc.array(clientView, { maxLength: 8 }), fc.integer({ min: 1, max: 3 }), (rowSpecs, viewSpecs, processes) => {
        const rows: StoredRow[] = rowSpecs.map((r) => ({ id: `id${r.session}-${r.seq}-${r.id}`, session_id: SESSIONS[r.session]!, seq: String(r.seq), user_id: U, client_msg_id: null }));
        const views: ClientView[] = viewSpecs.map((v) => ({
          sessionId: SESSIONS[v.session]!,
          welcomeHead: v.welcomeHead,
          messages: v.messages.map((m) => ({ id: `id${v.session}-${m.seq}-${m.id}`, seq: m.seq, userId: U, clientMsgId: `c${m.sender}` })),
        }));
        // Whole sessions per process, as the suite assigns them.
        const processOf = (sessionId: string) => SESSIONS.indexOf(sessionId) % processes;
        const parts = Array.from({ length: processes }, (_, p) =>
          viewCounts(
            views.filter((view) => processOf(view.sessionId) === p),
            rows.filter((r) => processOf(r.session_id) === p),
          ),
        );
        expect(addViewCounts(parts)).toEqual(viewCounts(views, rows));
      }),
    );
  });

  it('still finds a hole when the process holding the view is given its session\'s rows', () => {
    const rows = [row(1), row(2), row(3)];
    expect(addViewCounts([viewCounts([view([1, 3])], rows), viewCounts([], [])]).viewHoles).toBe(1);
  });
});
