import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KyselyPeopleStore, type Database } from '@chat/db';
import type { Kysely } from 'kysely';
import { backends } from './backends.ts';

for (const backend of await backends()) {
  (backend.available ? describe : describe.skip)(`KyselyPeopleStore on ${backend.name}`, () => {
    let db: Kysely<Database>;
    let store: KyselyPeopleStore;

    beforeAll(async () => {
      db = await backend.open();
      store = new KyselyPeopleStore(db);
    });

    afterAll(async () => {
      await db.destroy();
    });

    it('writes many people in one upsert: new ones are added, known ones renamed, a repeated id keeps its last name', async () => {
      const tag = randomBytes(4).toString('hex');
      const [ada, bob, cleo] = [randomUUID(), randomUUID(), randomUUID()];
      await store.recordPeople([{ id: ada, name: `Ada ${tag}` }]);
      await store.recordPeople([
        { id: ada, name: `Ada Lovelace ${tag}` },
        { id: bob, name: `Bob ${tag}` },
        { id: cleo, name: `Cleo ${tag}` },
        { id: bob, name: `Bobby ${tag}` },
      ]);
      await store.recordPeople([]);
      const found = await store.findPeople({ text: tag, limit: 10 });
      expect(found).toEqual([
        { id: ada, name: `Ada Lovelace ${tag}` },
        { id: bob, name: `Bobby ${tag}` },
        { id: cleo, name: `Cleo ${tag}` },
      ]);
    });
  });
}
