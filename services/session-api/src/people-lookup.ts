import { PEOPLE_MAX_LIMIT, personName, personSchema, type Person } from '@chat/protocol';
import { z } from 'zod';

/** Where people are found besides those seen through their tokens: the finance backend's directory. */
export type PeopleLookup = (q: string, limit: number) => Promise<Person[]>;

const lookupAnswerSchema = z.object({ people: z.array(personSchema).max(PEOPLE_MAX_LIMIT * 4) });

/**
 * Asks `GET <url>?q=&limit=` for `{"people":[{"id","name"}]}`, giving up after `timeoutMs`. Any
 * failure (refused, slow, not 200, another shape) throws; the caller falls back to the directory.
 */
export function httpPeopleLookup(url: string, timeoutMs: number): PeopleLookup {
  return async (q, limit) => {
    const target = new URL(url);
    target.searchParams.set('q', q);
    target.searchParams.set('limit', String(limit));
    const response = await fetch(target, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`the people lookup answered ${response.status}`);
    }
    const answer = lookupAnswerSchema.parse(await response.json());
    return answer.people.map((person) => ({ id: person.id.toLowerCase(), name: personName(person.name) })).filter((person) => person.name !== '');
  };
}

/** The lookup's people first (the finance backend knows them best), then the directory's, each person once. */
export function mergePeople(first: readonly Person[], then: readonly Person[], limit: number): Person[] {
  const seen = new Set<string>();
  const merged: Person[] = [];
  for (const person of [...first, ...then]) {
    if (seen.has(person.id)) continue;
    seen.add(person.id);
    merged.push(person);
    if (merged.length === limit) break;
  }
  return merged;
}
