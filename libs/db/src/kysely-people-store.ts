import type { PeopleSearch, PeopleStore } from '@chat/core';
import { personSearchKey, type Person } from '@chat/protocol';
import { sql, type Kysely } from 'kysely';
import type { Database } from './database.ts';

/** `%`, `_` and the escape itself match literally inside a LIKE pattern. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** The people directory, on PostgreSQL or PGlite. */
export class KyselyPeopleStore implements PeopleStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** One multi-row upsert; PostgreSQL refuses a batch naming one id twice, so the last name of an id wins. */
  async recordPeople(people: readonly Person[]): Promise<void> {
    const byId = new Map(people.map((person) => [person.id, person.name]));
    if (byId.size === 0) return;
    const rows = [...byId].map(([id, name]) => ({ user_id: id, name, name_key: personSearchKey(name), seen_at: sql<string>`now()` }));
    await this.#db
      .insertInto('chat_people')
      .values(rows)
      .onConflict((conflict) =>
        conflict.column('user_id').doUpdateSet((eb) => ({ name: eb.ref('excluded.name'), name_key: eb.ref('excluded.name_key'), seen_at: eb.ref('excluded.seen_at') })),
      )
      .execute();
  }

  async findPeople(search: PeopleSearch): Promise<Person[]> {
    const key = likeLiteral(personSearchKey(search.text));
    const { rows } = await sql<{ user_id: string; name: string }>`
      select user_id, name from chat_people
      where name_key like ${`%${key}%`} escape '\\'
      order by (name_key like ${`${key}%`} escape '\\') desc, name_key, user_id
      limit ${search.limit}`.execute(this.#db);
    return rows.map((row) => ({ id: row.user_id, name: row.name }));
  }
}
