import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { httpPeopleLookup, mergePeople } from './people-lookup.ts';

const CAROL = '00000000-0000-4000-8000-0000000000c0';
const DAVE = '00000000-0000-4000-8000-0000000000d0';

/** A real HTTP server standing in for the finance backend's lookup; each path answers its own way. */
let server: Server;
let base: string;
const asked: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://lookup');
    asked.push(`${url.pathname}?${url.searchParams.toString()}`);
    if (url.pathname === '/people') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ people: [{ id: CAROL.toUpperCase(), name: ` Carol ${url.searchParams.get('q') ?? ''}\u0000` }] }));
    } else if (url.pathname === '/slow') {
      setTimeout(() => res.end('{"people":[]}'), 2_000).unref();
    } else if (url.pathname === '/wrong-shape') {
      res.end(JSON.stringify({ people: [{ id: 'not-a-uuid', name: 'x' }] }));
    } else {
      res.statusCode = 500;
      res.end('down');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('httpPeopleLookup', () => {
  it('asks with q and limit and gives back ids in lower case and names as they are kept', async () => {
    const lookup = httpPeopleLookup(`${base}/people?tenant=7`, 1_000);
    expect(await lookup('ca rol&', 5)).toEqual([{ id: CAROL, name: 'Carol ca rol&' }]);
    expect(asked.at(-1)).toBe('/people?tenant=7&q=ca+rol%26&limit=5');
  });

  it('fails on a slow answer within the timeout, on an error status and on another shape', async () => {
    const started = Date.now();
    await expect(httpPeopleLookup(`${base}/slow`, 200)('a', 5)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1_500);
    await expect(httpPeopleLookup(`${base}/down`, 1_000)('a', 5)).rejects.toThrow('the people lookup answered 500');
    await expect(httpPeopleLookup(`${base}/wrong-shape`, 1_000)('a', 5)).rejects.toThrow();
  });
});

describe('mergePeople', () => {
  it('puts the lookup first, gives each person once and stops at the limit', () => {
    const carol = { id: CAROL, name: 'Carol' };
    const dave = { id: DAVE, name: 'Dave' };
    expect(mergePeople([carol], [{ id: CAROL, name: 'Carol (seen)' }, dave], 10)).toEqual([carol, dave]);
    expect(mergePeople([carol], [dave], 1)).toEqual([carol]);
  });
});
