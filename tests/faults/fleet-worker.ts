/**
 * A client process of the fault suite and the soak: holds its share of the clients (a `Fleet`) and
 * does what its parent asks, so that the parent's event loop (injecting faults, checking outcomes)
 * and the clients' cannot hold each other up, and no process passes its open-file limit.
 *
 * Spoken to by request and reply over the IPC channel (`FleetWorker` in fleet-workers.ts); every
 * change of a member's connection counters is pushed unasked, at the end of the tick it happened
 * in, and before any reply, so the parent's copy is current when a reply arrives.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Fleet, memberState, type FleetOptions, type MemberState, type SendRecord } from './fleet.ts';
import { OutcomeCheck, localViews, viewCounts, clientView, type StoredRow, type Tally, type ViewCounts } from './outcome-check.ts';

export type FleetCommand =
  | { kind: 'open'; fleet: FleetOptions }
  | { kind: 'traffic'; phase: number; perSecond: number }
  | { kind: 'stop-traffic' }
  | { kind: 'settle'; timeoutMs: number; phase?: number }
  | { kind: 'checkpoint'; phase: number }
  | { kind: 'unsettled'; phase: number }
  | { kind: 'pending-reasons'; phase: number }
  | { kind: 'sends'; phase: number }
  | { kind: 'last-seqs' }
  | { kind: 'view-counts'; rows: StoredRow[] }
  | { kind: 'loop-delay'; reset: boolean }
  | { kind: 'check-alone'; databaseUrl: string };

export interface OpenedFleet {
  sessionIds: string[];
  members: MemberState[];
}

/** The soak's end: this process's clients checked on their own against PostgreSQL. */
export interface AloneOutcome {
  clients: number;
  disconnects: number;
  finalCloses: number;
  pending: number;
  tally: Tally;
}

/** Unasked messages from a worker: members whose counters changed, by their index in the worker. */
export interface MembersChanged {
  kind: 'members';
  changed: [number, MemberState][];
}

export type WorkerReply = { id: number; ok: true; reply: unknown } | { id: number; ok: false; error: string };

let fleet: Fleet | undefined;
const delay = monitorEventLoopDelay({ resolution: 20 });
delay.enable();
const changed = new Set<number>();
let flushQueued = false;
/** Send records handed to the parent with their ack: nothing the checks read of them changes later. */
const settledHandedOver = new Set<string>();

function opened(): Fleet {
  if (!fleet) throw new Error('no clients opened');
  return fleet;
}

function flushChanges(): void {
  flushQueued = false;
  if (!fleet || changed.size === 0) return;
  const members = fleet.members;
  const message: MembersChanged = { kind: 'members', changed: [...changed].map((i) => [i, memberState(members[i] as (typeof members)[number])]) };
  changed.clear();
  process.send?.(message);
}

function watchMembers(clients: Fleet): void {
  clients.members.forEach((member, i) => {
    const mark = () => {
      changed.add(i);
      if (!flushQueued) {
        flushQueued = true;
        setImmediate(flushChanges);
      }
    };
    // Registered after the fleet's own listeners, so the counters have already moved.
    member.client.on('state', mark);
    member.client.on('welcome', mark);
  });
}

/** The sends the parent has not seen in their final form: new ones, unacked ones, and every one of `phase` on. */
function sendsFor(phase: number): SendRecord[] {
  const out: SendRecord[] = [];
  for (const record of opened().sends.values()) {
    if (settledHandedOver.has(record.clientMsgId) && record.phase < phase) continue;
    out.push(record);
    if (record.ack) settledHandedOver.add(record.clientMsgId);
  }
  return out;
}

async function handle(command: FleetCommand): Promise<unknown> {
  switch (command.kind) {
    case 'open': {
      fleet = await Fleet.open(command.fleet);
      watchMembers(fleet);
      return { sessionIds: fleet.sessionIds, members: fleet.members.map(memberState) } satisfies OpenedFleet;
    }
    case 'traffic':
      opened().startTraffic(command.phase, command.perSecond);
      return null;
    case 'stop-traffic':
      opened().stopTraffic();
      return null;
    case 'settle':
      await opened().settle(command.timeoutMs, command.phase);
      return null;
    case 'checkpoint':
      await opened().checkpoint(command.phase);
      return null;
    case 'unsettled':
      return opened().unsettledIn(command.phase);
    case 'pending-reasons':
      return [...opened().pendingReasons(command.phase)];
    case 'sends':
      return sendsFor(command.phase);
    case 'last-seqs':
      return opened().members.map((member) => ({ sessionId: member.sessionId, lastSeq: member.client.lastSeq }));
    case 'view-counts':
      return viewCounts(opened().members.map(clientView), command.rows) satisfies ViewCounts;
    case 'loop-delay': {
      const maxMs = Math.round(delay.max / 1e6);
      if (command.reset) delay.reset();
      return maxMs;
    }
    case 'check-alone':
      return checkAlone(command.databaseUrl);
  }
}

async function checkAlone(databaseUrl: string): Promise<AloneOutcome> {
  const clients = opened();
  clients.stopTraffic();
  await clients.settle(60_000);
  await clients.checkpoint(0);
  await clients.settle(60_000);
  const check = new OutcomeCheck(databaseUrl);
  try {
    await check.waitPersisted(clients.sends.values(), clients.sessionIds, 120_000);
    const views = localViews(clients.members);
    await check.waitViews(views, clients.sessionIds, 60_000);
    const tally = await check.tally(0, clients.sends, views, clients.sessionIds);
    return {
      clients: clients.members.length,
      disconnects: clients.members.reduce((sum, member) => sum + member.disconnects, 0),
      finalCloses: clients.members.filter((member) => member.finalClose !== undefined).length,
      pending: clients.pending,
      tally,
    };
  } finally {
    clients.close();
    await check.close();
  }
}

process.on('message', (message: { id: number; command: FleetCommand }) => {
  handle(message.command).then(
    (reply) => {
      flushChanges();
      process.send?.({ id: message.id, ok: true, reply } satisfies WorkerReply);
    },
    (error: unknown) => {
      flushChanges();
      process.send?.({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies WorkerReply);
    },
  );
});
// The suite may be gone before a reply reaches it (it failed, or was stopped): a reply that cannot
// be written is dropped, and the disconnect below ends this process.
process.on('error', () => undefined);
process.on('disconnect', () => {
  fleet?.close();
  process.exit(0);
});
