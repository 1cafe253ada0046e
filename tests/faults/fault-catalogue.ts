import type { ChatService } from './chat-services.ts';
import type { FaultStack } from './fault-stack.ts';
import type { MemberState } from './fleet.ts';
import type { FaultTarget } from './infra-servers.ts';
import { sleep } from './managed-process.ts';

export interface FaultTimings {
  /** How long a killed process stays dead before it is started again. */
  deadMs: number;
  /** How long a SIGSTOP lasts. */
  frozenMs: number;
  /** How long a cut link stays cut. */
  cutMs: number;
  /** How long PostgreSQL stays stopped while the persister backs up. */
  postgresOutageMs: number;
  /** DRAIN_RECONNECT_WINDOW_MS of the gateways: a drained gateway's clients come back spread over it. */
  drainWindowMs: number;
}

/** The CI form: shorter outages, same faults. */
export const SHORT_TIMINGS: FaultTimings = { deadMs: 2_000, frozenMs: 5_000, cutMs: 4_000, postgresOutageMs: 10_000, drainWindowMs: 3_000 };
/** The form: SIGSTOP for 10 s, PostgreSQL stopped for a minute. */
export const FULL_TIMINGS: FaultTimings = { deadMs: 3_000, frozenMs: 10_000, cutMs: 10_000, postgresOutageMs: 60_000, drainWindowMs: 10_000 };

/** One fault: how to inject it and lift it, and whose readiness it must turn false and back. */
export interface Fault {
  readonly name: string;
  readonly description: string;
  /** Services whose /readyz must answer not ready during the fault, and ready after it. */
  readonly touches: readonly string[];
  /**
   * Injects the fault and lifts it; resolves once it is lifted (a restarted part serves again).
   * A fault that checks something itself while it lasts rejects with FaultFindings.
   */
  inject(stack: FaultStack, timings: FaultTimings, clients: FaultClients): Promise<void>;
  /** The fault drains gateways: each client they close must reconnect exactly once per drain close. */
  readonly drains?: boolean;
}

/** What a fault found wrong while it lasted; the fault was lifted all the same. */
export class FaultFindings extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'FaultFindings';
    this.problems = problems;
  }
}

/** The suite's clients, as a fault that watches them while it lasts sees them (their counters kept current). */
export interface FaultClients {
  readonly members: readonly MemberState[];
  allOpen(): boolean;
}

/** The longest a client adds to its drain hint (the SDK's jitter bound), and some slack for a loaded machine. */
const DRAIN_JITTER_AND_SLACK_MS = 2_500;

const GATEWAYS = ['gateway-a', 'gateway-b'];
const DEPENDENTS: Record<string, readonly string[]> = {
  'gateway-a': ['gateway-a'],
  'gateway-b': ['gateway-b'],
  'session-api': ['session-api'],
  persister: ['persister'],
  redis: [...GATEWAYS, 'session-api'],
  nats: [...GATEWAYS, 'session-api', 'persister'],
  postgres: ['session-api', 'persister'],
};

type TargetName = 'gateway-b' | 'session-api' | 'persister' | 'redis' | 'nats' | 'postgres';

function target(stack: FaultStack, name: TargetName): FaultTarget | ChatService {
  switch (name) {
    case 'gateway-b':
      return stack.gateways[1];
    case 'session-api':
      return stack.api;
    case 'persister':
      return stack.persister;
    case 'redis':
      return stack.redis;
    case 'nats':
      return stack.nats;
    case 'postgres':
      return stack.postgres;
  }
}

function killAndRestart(name: TargetName): Fault {
  return {
    name: `kill -9 ${name}`,
    description: `kill -9 of ${name} (its whole process group), dead for a while, then started again`,
    touches: DEPENDENTS[name] ?? [],
    async inject(stack, timings) {
      const part = target(stack, name);
      await part.process.kill();
      await sleep(timings.deadMs);
      await part.start();
    },
  };
}

function freeze(name: TargetName): Fault {
  return {
    name: `SIGSTOP ${name}`,
    description: `SIGSTOP of ${name} (slow, not dead), then SIGCONT`,
    touches: DEPENDENTS[name] ?? [],
    async inject(stack, timings) {
      const part = target(stack, name);
      part.process.signal('SIGSTOP');
      await sleep(timings.frozenMs);
      part.process.signal('SIGCONT');
    },
  };
}

function cutGatewayFrom(dependency: 'redis' | 'nats'): Fault {
  return {
    name: `gateway-a cut from ${dependency}`,
    description: `every connection between gateway-a and ${dependency} dropped and new ones refused, the other parts unaffected`,
    touches: ['gateway-a'],
    async inject(stack, timings) {
      const proxy = dependency === 'redis' ? stack.redisProxy : stack.natsProxy;
      await proxy.cut({ stopListening: true });
      await sleep(timings.cutMs);
      await proxy.start();
    },
  };
}

const rollingRestart: Fault = {
  name: 'rolling restart of the gateways',
  description: 'each gateway in turn: SIGTERM (drain, 1001 with a reconnect delay to each client), started again, ready, and its drain window over before the next',
  touches: GATEWAYS,
  drains: true,
  async inject(stack, timings) {
    for (const gateway of stack.gateways) {
      const drainedAt = performance.now();
      await gateway.process.stop();
      await gateway.start();
      // As an operator does: the next replica drains once the last one's clients have moved.
      await sleep(Math.max(0, drainedAt + timings.drainWindowMs + DRAIN_JITTER_AND_SLACK_MS - performance.now()));
    }
  },
};

const postgresOutage: Fault = {
  name: 'PostgreSQL stopped',
  description: 'PostgreSQL shut down (fast) while traffic goes on and the persister backs up, then started again',
  touches: DEPENDENTS['postgres'] ?? [],
  async inject(stack, timings) {
    stack.postgres.process.signal('SIGINT');
    await stack.postgres.process.exited();
    await sleep(timings.postgresOutageMs);
    await stack.postgres.start();
  },
};

const TARGETS: readonly TargetName[] = ['gateway-b', 'session-api', 'persister', 'redis', 'nats', 'postgres'];

/** Every single fault, in the order the suite runs them. */
export const SINGLE_FAULTS: readonly Fault[] = [
  ...TARGETS.map(killAndRestart),
  ...TARGETS.map(freeze),
  cutGatewayFrom('redis'),
  cutGatewayFrom('nats'),
  rollingRestart,
  postgresOutage,
];

/** Two faults at once: both injected together, the pair lifted when both are. */
export function pairOf(first: Fault, second: Fault): Fault {
  return {
    name: `${first.name} + ${second.name}`,
    description: `${first.description}; at the same time ${second.description}`,
    touches: [...new Set([...first.touches, ...second.touches])],
    drains: first.drains === true || second.drains === true,
    async inject(stack, timings, clients) {
      await Promise.all([first.inject(stack, timings, clients), second.inject(stack, timings, clients)]);
    },
  };
}

/** Pairs of faults on different parts, for the long form. */
export function faultPairs(): Fault[] {
  const byName = (name: string) => {
    const fault = SINGLE_FAULTS.find((f) => f.name === name);
    if (!fault) throw new Error(`no fault named ${name}`);
    return fault;
  };
  return [
    ['kill -9 gateway-b', 'kill -9 redis'],
    ['kill -9 session-api', 'kill -9 nats'],
    ['kill -9 persister', 'kill -9 postgres'],
    ['kill -9 redis', 'kill -9 nats'],
    ['SIGSTOP nats', 'kill -9 gateway-b'],
    ['gateway-a cut from redis', 'kill -9 session-api'],
    ['gateway-a cut from nats', 'SIGSTOP redis'],
    ['rolling restart of the gateways', 'kill -9 persister'],
  ].map(([a, b]) => pairOf(byName(a ?? ''), byName(b ?? '')));
}
