import { CLOSE_CODES } from '@chat/protocol';
import { FaultFindings, type Fault, type FaultClients, type FaultTimings } from './fault-catalogue.ts';
import type { FaultStack } from './fault-stack.ts';
import type { MemberState } from './fleet.ts';
import type { Host, HostLink, HostNetwork } from './host-network.ts';
import { sleep } from './managed-process.ts';

/** How long the clients of a cut host may take to resume on the other one. */
const MOVE_TIMEOUT_MS = 60_000;

/**
 * Settings of the host scenario: a gateway hands its clients over 2 s after its Redis or NATS
 * stopped answering, and a client gives up a link silent for a 5 s heartbeat (shorter ones
 * fire on their own when the machine is loaded).
 */
export const HOST_SCENARIO_ENV: Readonly<Record<string, string>> = {
  DEPENDENCY_LOSS_HANDOVER_MS: '2000',
  // The suite's finance backend creates every session under one id, 50 of them for 300 clients.
  SESSION_CREATE_PER_MINUTE: '1000',
};
export const HOST_SCENARIO_CLIENT_HEARTBEAT_MS = 5_000;

/** The close codes each cut may give the cut host's clients (docs/protocol.md, close codes). */
const HANDOVER_CLOSES = [CLOSE_CODES.goingAway, CLOSE_CODES.tryAgainLater];
const LINK_LOST_CLOSES = [CLOSE_CODES.abnormal];

/** The closes that sent a client back (a drain's 1001 and every other code), by code. */
function closesOf(member: MemberState): Map<number, number> {
  return new Map([[CLOSE_CODES.goingAway, member.drainCloses], ...Object.entries(member.otherCloses).map(([code, n]) => [Number(code), n] as [number, number])]);
}

/** Every close each client saw from its creation on, read from the members' counters. */
export class CloseLog {
  readonly #members: readonly MemberState[];
  readonly #before: Map<number, number>[];

  constructor(members: readonly MemberState[]) {
    this.#members = members;
    this.#before = members.map(closesOf);
  }

  /** The closes since the log began, per client. */
  #since(): Map<number, number>[] {
    return this.#members.map((member, i) => {
      const since = new Map<number, number>();
      for (const [code, n] of closesOf(member)) {
        const added = n - (this.#before[i]?.get(code) ?? 0);
        if (added > 0) since.set(code, added);
      }
      return since;
    });
  }

  get closedClients(): number {
    return this.#since().filter((since) => since.size > 0).length;
  }

  codes(): number[] {
    return this.#since().flatMap((since) => [...since.keys()]);
  }
}

interface HostCut {
  name: string;
  description: string;
  host: 0 | 1;
  link: HostLink;
  allowedCloses: readonly number[];
  /** Checks made while the host is cut and its clients have moved; each returns a problem or nothing. */
  whileCut?: (host: Host, stack: FaultStack) => Promise<string | undefined>;
}

/**
 * One host cut off over one of its links until its clients have resumed on the other host (and
 * at least the cut time), then joined again. Found wrong: no client was on the host, a close
 * outside the contract's codes for this cut, clients not resumed while it lasted.
 */
function hostCut(cut: HostCut): Fault {
  const gateway = cut.host === 0 ? 'gateway-a' : 'gateway-b';
  return {
    name: cut.name,
    description: cut.description,
    touches: [gateway],
    async inject(stack: FaultStack, timings: FaultTimings, clients: FaultClients) {
      const network = hostsOf(stack);
      const host = network.hosts[cut.host];
      const problems: string[] = [];
      const closes = new CloseLog(clients.members);
      let codes: number[] = [];
      const cutAt = performance.now();
      network.cut(host, cut.link);
      try {
        const moved = await until(() => closes.closedClients > 0 && clients.allOpen(), MOVE_TIMEOUT_MS);
        if (closes.closedClients === 0) problems.push(`no client of ${host.name} was closed while it was cut`);
        else if (!moved) problems.push(`clients of ${host.name} not resumed on the other host within ${MOVE_TIMEOUT_MS} ms of the cut`);
        const found = moved ? await cut.whileCut?.(host, stack) : undefined;
        if (found) problems.push(found);
        await sleep(Math.max(0, cutAt + timings.cutMs - performance.now()));
      } finally {
        // The closes while the host was cut, not those of the clients coming back after.
        codes = closes.codes();
        network.restore(host, cut.link);
      }
      const outside = [...new Set(codes.filter((code) => !cut.allowedCloses.includes(code)))];
      if (outside.length > 0) problems.push(`clients closed with ${outside.join(', ')}; this cut may close them only with ${cut.allowedCloses.join(', ')}`);
      if (problems.length > 0) throw new FaultFindings(problems);
    },
  };
}

function hostsOf(stack: FaultStack): HostNetwork {
  if (!stack.hosts) throw new Error('this fault needs the gateways on hosts of their own (the host scenario)');
  return stack.hosts;
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (condition()) return true;
    await sleep(100);
  }
  return condition();
}

/** The cut host, asked from the root namespace over its clients' link: it answers not ready and holds no chat socket. */
async function reportsNotReadyAndEmpty(_host: Host, stack: FaultStack): Promise<string | undefined> {
  const gateway = stack.gateways[0];
  const readyz = await fetch(`${gateway.url}/readyz`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  if (readyz?.status !== 503) return `${gateway.name}'s /readyz answered ${readyz?.status ?? 'nothing'} while its host was cut from Redis and NATS, not 503`;
  const metrics = await fetch(`${gateway.url}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((response) => response.text());
  const open = openConnections(metrics);
  if (open !== 0) return `${gateway.name} still held ${open} open sockets while its clients had resumed elsewhere`;
  return undefined;
}

/** The sum of chat_connections_open over its labels in a Prometheus text page. */
export function openConnections(metrics: string): number {
  return metrics
    .split('\n')
    .filter((line) => /^chat_connections_open(\{|\s)/.test(line))
    .reduce((sum, line) => sum + Number(line.trim().split(/\s+/).at(-1)), 0);
}

/** The host scenario's faults, in order: A loses the servers (its clients move to B), then B loses its clients (they move to A). */
export const HOST_FAULTS: readonly Fault[] = [
  hostCut({
    name: 'host A cut from redis+nats',
    description: "gateway-a's host loses its link to Redis, NATS and PostgreSQL (packets vanish), its clients' link stays",
    host: 0,
    link: 'backend',
    allowedCloses: HANDOVER_CLOSES,
    whileCut: reportsNotReadyAndEmpty,
  }),
  hostCut({
    name: 'host B cut from clients',
    description: "gateway-b's host loses its clients' link (packets vanish), its link to the servers stays",
    host: 1,
    link: 'clients',
    allowedCloses: LINK_LOST_CLOSES,
  }),
];
