import { describe, expect, it } from '@jest/globals';
import type { Person } from '@chat/protocol';
import { PeopleRecorder, recordingCallers } from './people-directory.ts';

const ALICE = '00000000-0000-4000-8000-00000000000a';
const BOB = '00000000-0000-4000-8000-00000000000b';
const CARL = '00000000-0000-4000-8000-00000000000c';

function recorder(options: { fail?: boolean; maxRemembered?: number; maxBatch?: number } = {}) {
  const writes: Person[] = [];
  const batches: Person[][] = [];
  let clock = 1_000;
  let failing = options.fail ?? false;
  const errors: unknown[] = [];
  const people = new PeopleRecorder({
    store: {
      recordPeople: (people) => {
        writes.push(...people);
        batches.push([...people]);
        return failing ? Promise.reject(new Error('store down')) : Promise.resolve();
      },
    },
    intervalMs: 60_000,
    flushMs: 10,
    ...(options.maxRemembered === undefined ? {} : { maxRemembered: options.maxRemembered }),
    ...(options.maxBatch === undefined ? {} : { maxBatch: options.maxBatch }),
    now: () => clock,
    onError: (error) => errors.push(error),
  });
  return {
    people,
    writes,
    batches,
    errors,
    advance: (ms: number) => (clock += ms),
    recover: () => (failing = false),
  };
}

describe('PeopleRecorder', () => {
  it('writes a user once per interval, again when the name changes, and never a caller without a name', async () => {
    const { people, writes, advance } = recorder();
    for (let i = 0; i < 100; i++) people.seen({ userId: ALICE, name: 'Alice' });
    people.seen({ userId: BOB });
    people.seen({ userId: BOB, name: '  \u0000 ' });
    await people.flush();
    expect(writes).toEqual([{ id: ALICE, name: 'Alice' }]);
    people.seen({ userId: ALICE, name: 'Alice Smith' });
    await people.flush();
    expect(writes).toHaveLength(2);
    advance(59_999);
    people.seen({ userId: ALICE, name: 'Alice Smith' });
    await people.flush();
    expect(writes).toHaveLength(2);
    advance(1);
    people.seen({ userId: ALICE, name: 'Alice Smith' });
    await people.flush();
    expect(writes).toEqual([
      { id: ALICE, name: 'Alice' },
      { id: ALICE, name: 'Alice Smith' },
      { id: ALICE, name: 'Alice Smith' },
    ]);
  });

  it('writes the users seen meanwhile in one batch, soon after the first, each once with their latest name', async () => {
    const { people, batches } = recorder();
    people.seen({ userId: ALICE, name: 'Alice' });
    people.seen({ userId: BOB, name: 'Bob' });
    people.seen({ userId: ALICE, name: 'Alice Smith' });
    expect(batches).toEqual([]);
    expect(people.pending).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(batches).toEqual([
      [
        { id: ALICE, name: 'Alice Smith' },
        { id: BOB, name: 'Bob' },
      ],
    ]);
    expect(people.pending).toBe(0);
  });

  it('writes at once when the buffer fills, and close() writes what is left', async () => {
    const { people, batches } = recorder({ maxBatch: 2 });
    people.seen({ userId: ALICE, name: 'Alice' });
    people.seen({ userId: BOB, name: 'Bob' });
    expect(batches).toHaveLength(1);
    people.seen({ userId: CARL, name: 'Carl' });
    expect(batches).toHaveLength(1);
    await people.close();
    expect(batches).toEqual([
      [
        { id: ALICE, name: 'Alice' },
        { id: BOB, name: 'Bob' },
      ],
      [{ id: CARL, name: 'Carl' }],
    ]);
  });

  it('forgets a failed write so the next request tries again, and reports the failure', async () => {
    const { people, writes, errors, recover } = recorder({ fail: true });
    people.seen({ userId: ALICE, name: 'Alice' });
    people.seen({ userId: BOB, name: 'Bob' });
    await people.flush();
    expect(errors).toHaveLength(1);
    recover();
    people.seen({ userId: ALICE, name: 'Alice' });
    people.seen({ userId: ALICE, name: 'Alice' });
    people.seen({ userId: BOB, name: 'Bob' });
    await people.flush();
    expect(writes).toHaveLength(4);
    expect(errors).toHaveLength(1);
  });

  it('remembers at most maxRemembered users, forgetting the one written longest ago', async () => {
    const { people, writes } = recorder({ maxRemembered: 1 });
    people.seen({ userId: ALICE, name: 'Alice' });
    await people.flush();
    people.seen({ userId: BOB, name: 'Bob' });
    people.seen({ userId: BOB, name: 'Bob' });
    await people.flush();
    people.seen({ userId: ALICE, name: 'Alice' });
    await people.flush();
    expect(writes.map((person) => person.name)).toEqual(['Alice', 'Bob', 'Alice']);
  });

  it('notes callers only once their token is verified', async () => {
    const { people, writes } = recorder();
    const verify = recordingCallers((token: string | undefined) => (token === 'good' ? Promise.resolve({ userId: ALICE, name: 'Alice' }) : Promise.reject(new Error('bad token'))), people);
    await expect(verify('bad')).rejects.toThrow('bad token');
    await people.flush();
    expect(writes).toEqual([]);
    await expect(verify('good')).resolves.toEqual({ userId: ALICE, name: 'Alice' });
    await people.flush();
    expect(writes).toEqual([{ id: ALICE, name: 'Alice' }]);
  });
});
