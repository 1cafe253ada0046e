import type { PeopleSearch, PeopleStore } from '@chat/core';
import { personSearchKey, type Person } from '@chat/protocol';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { Database } from './database.ts';

/** `%`, `_` and the escape itself match literally inside a LIKE pattern. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/**
 * The people of a batch as one JSON array (one parameter, one fixed statement whatever the batch
 * size, prepared once per connection under its name as the message inserts are): kysely built a
 * multi-row VALUES of four parameters per person, compiled anew for every batch, which was a few
 * percent of a gateway's CPU in a storm of connects of users it had not seen yet.
 */
const RECORD_PEOPLE = `/* named:chat_record_people */
    insert into chat_people (user_id, name, name_key, seen_at)
    select id, name, key, now() from json_to_recordset($1::json) as rows(id uuid, name text, key text)
    on conflict (user_id) do update set name = excluded.name, name_key = excluded.name_key, seen_at = excluded.seen_at`;

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
    const rows = [...byId].map(([id, name]) => ({ id, name, key: personSearchKey(name) }));
    await this.#db.executeQuery(CompiledQuery.raw(RECORD_PEOPLE, [JSON.stringify(rows)]));
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
