import { describe, expect, it } from '@jest/globals';
import type { Person } from '@chat/protocol';
import { PeopleRecorder, recordingCallers } from './people-directory.ts';

const ALICE = '00000000-0000-4000-8000-00000000000a';
const BOB = '00000000-0000-4000-8000-00000000000b';

function recorder(options: { fail?: boolean; maxRemembered?: number } = {}) {
  const writes: Person[] = [];
  let clock = 1_000;
  let failing = options.fail ?? false;
  const errors: unknown[] = [];
  const people = new PeopleRecorder({
    store: {
      recordPerson: (person) => {
        writes.push(person);
        return failing ? Promise.reject(new Error('store down')) : Promise.resolve();
      },
    },
    intervalMs: 60_000,
    ...(options.maxRemembered === undefined ? {} : { maxRemembered: options.maxRemembered }),
    now: () => clock,
    onError: (error) => errors.push(error),
  });
  return {
    people,
    writes,
    errors,
    advance: (ms: number) => (clock += ms),
    recover: () => (failing = false),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('PeopleRecorder', () => {
  it('writes a user once per interval, again at once when the name changes, and never a caller without a name', () => {
    const { people, writes, advance } = recorder();
    for (let i = 0; i < 100; i++) people.seen({ userId: ALICE, name: 'Alice' });
    people.seen({ userId: BOB });
    people.seen({ userId: BOB, name: '  \u0000 ' });
    expect(writes).toEqual([{ id: ALICE, name: 'Alice' }]);
    people.seen({ userId: ALICE, name: 'Alice Smith' });
    expect(writes).toHaveLength(2);
    advance(59_999);
    people.seen({ userId: ALICE, name: 'Alice Smith' });
    expect(writes).toHaveLength(2);
    advance(1);
    people.seen({ userId: ALICE, name: 'Alice Smith' });
    expect(writes).toEqual([
      { id: ALICE, name: 'Alice' },
      { id: ALICE, name: 'Alice Smith' },
      { id: ALICE, name: 'Alice Smith' },
    ]);
  });

  it('forgets a failed write so the next request tries again, and reports the failure', async () => {
    const { people, writes, errors, recover } = recorder({ fail: true });
    people.seen({ userId: ALICE, name: 'Alice' });
    await settle();
    expect(errors).toHaveLength(1);
    recover();
    people.seen({ userId: ALICE, name: 'Alice' });
    people.seen({ userId: ALICE, name: 'Alice' });
    await settle();
    expect(writes).toHaveLength(2);
    expect(errors).toHaveLength(1);
  });

  it('remembers at most maxRemembered users, forgetting the one written longest ago', () => {
    const { people, writes } = recorder({ maxRemembered: 1 });
    people.seen({ userId: ALICE, name: 'Alice' });
    people.seen({ userId: BOB, name: 'Bob' });
    people.seen({ userId: BOB, name: 'Bob' });
    people.seen({ userId: ALICE, name: 'Alice' });
    expect(writes.map((person) => person.name)).toEqual(['Alice', 'Bob', 'Alice']);
  });

  it('notes callers only once their token is verified', async () => {
    const { people, writes } = recorder();
    const verify = recordingCallers((token: string | undefined) => (token === 'good' ? Promise.resolve({ userId: ALICE, name: 'Alice' }) : Promise.reject(new Error('bad token'))), people);
    await expect(verify('bad')).rejects.toThrow('bad token');
    expect(writes).toEqual([]);
    await expect(verify('good')).resolves.toEqual({ userId: ALICE, name: 'Alice' });
    expect(writes).toEqual([{ id: ALICE, name: 'Alice' }]);
  });
});
