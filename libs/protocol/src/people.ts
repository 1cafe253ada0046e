import { z } from 'zod';

export const PEOPLE_DEFAULT_LIMIT = 10;
export const PEOPLE_MAX_LIMIT = 50;
/** Longest name kept (tokens may carry longer ones: they are cut to this) and longest search text. */
export const MAX_PERSON_NAME_CHARS = 100;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A name as it is kept and shown: well-formed UTF-16 (a lone surrogate becomes U+FFFD, as it would
 * on its way into the database anyway), control characters (NUL cannot be stored) as spaces, no
 * surrounding white space, at most MAX_PERSON_NAME_CHARS code units and never half a pair at the end.
 */
export function personName(raw: string): string {
  let name = raw.replace(LONE_SURROGATE, '\uFFFD');
  if (name.length > MAX_PERSON_NAME_CHARS) {
    name = name.slice(0, MAX_PERSON_NAME_CHARS);
    if (/[\uD800-\uDBFF]$/.test(name)) name = name.slice(0, -1);
  }
  return name.replace(/\p{Cc}/gu, ' ').trim();
}

/** What a name is searched by: the same text in lower case, so every backend matches it alike. */
export function personSearchKey(text: string): string {
  return personName(text).toLowerCase();
}

/** `GET /api/chat/people`: people whose name starts with or contains `q`, prefix matches first. */
export const peopleQuerySchema = z.object({
  /** Any part of a name, case-insensitive; empty lists people by name. */
  q: z.string().max(MAX_PERSON_NAME_CHARS, { message: `at most ${MAX_PERSON_NAME_CHARS} characters` }).default(''),
  limit: z.coerce.number().int().min(1).max(PEOPLE_MAX_LIMIT).default(PEOPLE_DEFAULT_LIMIT),
});
export type PeopleQuery = z.infer<typeof peopleQuerySchema>;

export const personSchema = z.object({ id: z.uuid(), name: z.string() }).meta({ id: 'Person' });
export type Person = z.infer<typeof personSchema>;

export const peopleListSchema = z.object({ people: z.array(personSchema) }).meta({ id: 'PeopleList' });
export type PeopleList = z.infer<typeof peopleListSchema>;
