import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** One host: a network namespace with a link for its clients and a link to Redis, NATS and PostgreSQL. */
export interface Host {
  readonly name: string;
  readonly namespace: string;
  /** Where its clients (and the readiness poll) reach it. */
  readonly address: string;
  readonly links: Readonly<Record<HostLink, LinkEnds>>;
}

export type HostLink = 'clients' | 'backend';

interface LinkEnds {
  /** The end in the root namespace, and its address. */
  readonly outside: string;
  readonly outsideAddress: string;
  /** The end inside the host's namespace, and its address. */
  readonly inside: string;
  readonly insideAddress: string;
}

const IP_CANDIDATES = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'];

/** Why this machine cannot build hosts from namespaces, or undefined when it can. */
export function hostNetworkUnavailable(): string | undefined {
  if (ipProgram() === undefined) return 'the `ip` program of iproute2 is missing (apt-get install iproute2)';
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  return undefined;
}

function ipProgram(): string | undefined {
  const onPath = (process.env['PATH'] ?? '').split(':').filter((dir) => dir !== '').map((dir) => join(dir, 'ip'));
  return [...onPath, ...IP_CANDIDATES].find((path) => existsSync(path));
}

/**
 * Two hosts as network namespaces, each joined to the root namespace by two veth pairs (one its
 * clients use, one to the servers), and the servers' own address on a veth of the root namespace
 * that no cut touches. A cut takes the host's end of one link down: packets over it vanish without
 * a reset, as in a partition, and the other link keeps working. Names and addresses derive from
 * `tag`, so runs on different port ranges do not meet.
 */
export class HostNetwork {
  readonly hosts: readonly [Host, Host];
  /** Where Redis, NATS and PostgreSQL listen, reachable from the root namespace and from both hosts. */
  readonly serversAddress: string;
  readonly #ip: string;
  readonly #serversLink: readonly [string, string];
  #built = false;

  /** `tag`: 1 to 3 digits; `octet`: the third octet of the 10.231.x.0/24 the hosts use. */
  constructor(tag: string, octet: number) {
    if (!/^\d{1,3}$/.test(tag)) throw new Error(`host network tag must be 1 to 3 digits, got ${tag}`);
    if (!Number.isInteger(octet) || octet < 0 || octet > 255) throw new Error(`octet must be 0..255, got ${octet}`);
    const ip = ipProgram();
    if (ip === undefined) throw new Error(hostNetworkUnavailable());
    this.#ip = ip;
    const net = `10.231.${octet}`;
    this.serversAddress = `${net}.1`;
    this.#serversLink = [`cv${tag}s0`, `cv${tag}s1`];
    const host = (index: number, letter: string): Host => {
      const link = (kind: number, suffix: string): LinkEnds => {
        const base = 4 + 8 * index + 4 * kind;
        return { outside: `cv${tag}${letter}${suffix}o`, outsideAddress: `${net}.${base + 1}`, inside: `cv${tag}${letter}${suffix}i`, insideAddress: `${net}.${base + 2}` };
      };
      const clients = link(0, 'c');
      return { name: `host ${letter.toUpperCase()}`, namespace: `chatns-${tag}${letter}`, address: clients.insideAddress, links: { clients, backend: link(1, 'b') } };
    };
    this.hosts = [host(0, 'a'), host(1, 'b')];
  }

  /** Builds the namespaces and links; whatever a failure left half built is removed again. */
  up(): void {
    this.down();
    this.#built = true;
    process.once('exit', this.#downAtExit);
    try {
      const [serversEnd, serversPeer] = this.#serversLink;
      this.#run(['link', 'add', serversEnd, 'type', 'veth', 'peer', 'name', serversPeer]);
      this.#run(['addr', 'add', `${this.serversAddress}/32`, 'dev', serversEnd]);
      this.#run(['link', 'set', serversEnd, 'up']);
      this.#run(['link', 'set', serversPeer, 'up']);
      for (const host of this.hosts) {
        this.#run(['netns', 'add', host.namespace]);
        this.#run(['-n', host.namespace, 'link', 'set', 'lo', 'up']);
        for (const link of Object.values(host.links)) {
          this.#run(['link', 'add', link.outside, 'type', 'veth', 'peer', 'name', link.inside, 'netns', host.namespace]);
          this.#run(['addr', 'add', `${link.outsideAddress}/30`, 'dev', link.outside]);
          this.#run(['link', 'set', link.outside, 'up']);
          this.#run(['-n', host.namespace, 'addr', 'add', `${link.insideAddress}/30`, 'dev', link.inside]);
          this.#run(['-n', host.namespace, 'link', 'set', link.inside, 'up']);
        }
        this.#routeToServers(host);
      }
    } catch (error) {
      this.down();
      throw error;
    }
  }

  /** Removes every namespace and link of this network (also ones a crashed run left behind). */
  down(): void {
    for (const host of this.hosts) {
      this.#run(['netns', 'del', host.namespace], true);
      // Deleting a namespace deletes the ends inside it, and with them their peers; these are leftovers.
      for (const link of Object.values(host.links)) this.#run(['link', 'del', link.outside], true);
    }
    this.#run(['link', 'del', this.#serversLink[0]], true);
    if (this.#built) process.off('exit', this.#downAtExit);
    this.#built = false;
  }

  readonly #downAtExit = () => this.down();

  /** Takes the host's end of the link down: nothing over it arrives any more, in either direction. */
  cut(host: Host, link: HostLink): void {
    this.#run(['-n', host.namespace, 'link', 'set', host.links[link].inside, 'down']);
  }

  /** Brings the link back, with the route a downed link loses. */
  restore(host: Host, link: HostLink): void {
    this.#run(['-n', host.namespace, 'link', 'set', host.links[link].inside, 'up']);
    if (link === 'backend') this.#routeToServers(host);
  }

  /** The command line that runs `command` on the host. */
  commandOn(host: Host, command: string, args: readonly string[]): { command: string; args: string[] } {
    return { command: this.#ip, args: ['netns', 'exec', host.namespace, command, ...args] };
  }

  #routeToServers(host: Host): void {
    const backend = host.links.backend;
    this.#run(['-n', host.namespace, 'route', 'replace', `${this.serversAddress}/32`, 'via', backend.outsideAddress, 'dev', backend.inside]);
  }

  #run(args: string[], mayFail = false): void {
    try {
      execFileSync(this.#ip, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      if (mayFail) return;
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(`ip ${args.join(' ')} failed${stderr ? `: ${stderr}` : ''}`, { cause: error });
    }
  }
}

/** The host network of a run on `portBase`: its names and addresses follow from the port range. */
export function hostNetworkFor(portBase: number): HostNetwork {
  const hundreds = Math.floor(portBase / 100);
  return new HostNetwork(String(hundreds % 1000), hundreds % 256);
}
