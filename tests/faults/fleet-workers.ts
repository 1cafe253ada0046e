import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { FaultClients } from './fault-catalogue.ts';
import type { FleetOptions, MemberState, SendRecord } from './fleet.ts';
import type { FleetCommand, MembersChanged, OpenedFleet, WorkerReply } from './fleet-worker.ts';
import { addViewCounts, type StoredRow, type ViewCounts, type ViewSource } from './outcome-check.ts';

/** A forked client process (fleet-worker.ts), spoken to by request and reply. */
export class FleetWorker {
  readonly #child: ChildProcess;
  #next = 0;
  readonly #pending = new Map<number, { resolve: (reply: unknown) => void; reject: (error: Error) => void }>();
  #gone: Error | undefined;

  /** `onMembers`: the worker's unasked reports of members whose counters changed. */
  constructor(options: { execArgv?: string[]; onMembers?: (changed: MembersChanged['changed']) => void } = {}) {
    this.#child = fork(join(import.meta.dirname, 'fleet-worker.ts'), [], { execArgv: options.execArgv ?? [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (message: WorkerReply | MembersChanged) => {
      if ('kind' in message) {
        options.onMembers?.(message.changed);
        return;
      }
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.ok) pending?.resolve(message.reply);
      else pending?.reject(new Error(message.error));
    });
    this.#child.on('exit', (code, signal) => {
      this.#gone = new Error(`a client process exited (${signal ?? code})`);
      for (const pending of this.#pending.values()) pending.reject(this.#gone);
      this.#pending.clear();
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  request<T>(command: FleetCommand): Promise<T> {
    if (this.#gone) return Promise.reject(this.#gone);
    if (!this.#child.connected) return Promise.reject(new Error('the client process was let go'));
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (reply: unknown) => void, reject });
      // A channel that closes meanwhile fails the request, not the process.
      this.#child.send({ id, command }, (error) => {
        if (!error) return;
        this.#pending.delete(id);
        reject(error);
      });
    });
  }

  stop(): void {
    if (this.#child.connected) this.#child.disconnect();
  }
}

export interface WorkerFleetOptions extends FleetOptions {
  /** Clients per process; the sessions are split so each process holds whole sessions. */
  clientsPerWorker: number;
}

/**
 * The suite's clients spread over client processes. Holds a copy of every member's connection
 * counters (kept current by the workers' reports) and, after `collectSends`, of every send record,
 * so the checks read the same data as when the clients lived in this process.
 */
export class WorkerFleet implements FaultClients {
  readonly members: MemberState[] = [];
  readonly sends = new Map<string, SendRecord>();
  readonly sessionIds: string[] = [];
  readonly #workers: { worker: FleetWorker; sessionIds: Set<string>; members: MemberState[] }[] = [];

  private constructor() {}

  static async open(options: WorkerFleetOptions): Promise<WorkerFleet> {
    const fleet = new WorkerFleet();
    try {
      await fleet.#open(options);
    } catch (error) {
      fleet.close();
      throw error;
    }
    return fleet;
  }

  async #open(options: WorkerFleetOptions): Promise<void> {
    const { clientsPerWorker, ...fleetOptions } = options;
    const clients = options.sessions * options.membersPerSession;
    const count = Math.min(options.sessions, Math.max(1, Math.ceil(clients / clientsPerWorker)));
    await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        // Reports before the open reply are older than its snapshot, and find no member yet.
        const members: MemberState[] = [];
        const worker = new FleetWorker({
          onMembers: (changed) => {
            for (const [index, state] of changed) {
              const member = members[index];
              if (member) Object.assign(member, state);
            }
          },
        });
        const entry = { worker, sessionIds: new Set<string>(), members };
        this.#workers.push(entry);
        // Whole sessions per process, as even as they divide.
        const sessions = Math.floor(options.sessions / count) + (i < options.sessions % count ? 1 : 0);
        const opened = await worker.request<OpenedFleet>({ kind: 'open', fleet: { ...fleetOptions, sessions } });
        for (const id of opened.sessionIds) entry.sessionIds.add(id);
        members.push(...opened.members);
      }),
    );
    for (const entry of this.#workers) {
      this.members.push(...entry.members);
      this.sessionIds.push(...entry.sessionIds);
    }
  }

  get processIds(): number[] {
    return this.#workers.flatMap(({ worker }) => (worker.pid === undefined ? [] : [worker.pid]));
  }

  /** Every member's chat socket is open and welcomed, as last reported. */
  allOpen(): boolean {
    return this.members.every((member) => member.isOpen);
  }

  #all<T>(command: FleetCommand): Promise<T[]> {
    return Promise.all(this.#workers.map(({ worker }) => worker.request<T>(command)));
  }

  /** `perSecond` sends in all, shared by the processes in proportion to their clients. */
  async startTraffic(phase: number, perSecond: number): Promise<void> {
    const total = this.members.length;
    await Promise.all(this.#workers.map(({ worker, members }) => worker.request({ kind: 'traffic', phase, perSecond: (perSecond * members.length) / total })));
  }

  async stopTraffic(): Promise<void> {
    await this.#all({ kind: 'stop-traffic' });
  }

  async settle(timeoutMs: number, phase?: number): Promise<void> {
    await this.#all({ kind: 'settle', timeoutMs, ...(phase === undefined ? {} : { phase }) });
  }

  async checkpoint(phase: number): Promise<void> {
    await this.#all({ kind: 'checkpoint', phase });
  }

  async unsettledIn(phase: number): Promise<number> {
    return (await this.#all<number>({ kind: 'unsettled', phase })).reduce((sum, n) => sum + n, 0);
  }

  async pendingReasons(phase: number): Promise<string[]> {
    const counts = new Map<string, number>();
    for (const part of await this.#all<[string, number][]>({ kind: 'pending-reasons', phase })) {
      for (const [reason, n] of part) counts.set(reason, (counts.get(reason) ?? 0) + n);
    }
    return [...counts].map(([reason, n]) => `${n}× ${reason}`);
  }

  /** Brings `sends` up to date: every record of `phase` on as it is now, and every earlier one not yet acked. */
  async collectSends(phase: number): Promise<void> {
    for (const part of await this.#all<SendRecord[]>({ kind: 'sends', phase })) {
      for (const record of part) this.sends.set(record.clientMsgId, record);
    }
  }

  /** The clients' views, read in their processes; each process checks its own sessions' rows. */
  get views(): ViewSource {
    return {
      lastSeqs: async () => (await this.#all<{ sessionId: string; lastSeq: number | undefined }[]>({ kind: 'last-seqs' })).flat(),
      viewCounts: async (rows: readonly StoredRow[]) =>
        addViewCounts(
          await Promise.all(
            this.#workers.map(({ worker, sessionIds }) => worker.request<ViewCounts>({ kind: 'view-counts', rows: rows.filter((row) => sessionIds.has(row.session_id)) })),
          ),
        ),
    };
  }

  /** The longest any client process's event loop was held up since the last reset, in ms. */
  async loopDelayMaxMs(reset: boolean): Promise<number> {
    return Math.max(0, ...(await this.#all<number>({ kind: 'loop-delay', reset })));
  }

  close(): void {
    for (const { worker } of this.#workers) worker.stop();
  }
}
