import type { Express } from 'express';
import { ChatError, peopleQuerySchema, type PeopleList, type Person } from '@chat/protocol';
import type { ApiDeps } from './api-deps.ts';
import { fromDependency, parseInput } from './http-errors.ts';
import { httpPeopleLookup, mergePeople, type PeopleLookup } from './people-lookup.ts';
import { ROUTES } from './routes.ts';

/**
 * `GET /api/chat/people?q=&limit=`: people by name, for picking members. Any signed-in user may ask
 * (authenticate runs before every /api route); only ids and names are given out.
 */
export function registerPeopleRoutes(app: Express, deps: ApiDeps): void {
  const lookup: PeopleLookup | undefined =
    deps.peopleLookup ?? (deps.config.peopleLookup.url === undefined ? undefined : httpPeopleLookup(deps.config.peopleLookup.url, deps.config.peopleLookup.timeoutMs));

  app.get(ROUTES.people, async (req, res) => {
    const query = parseInput(peopleQuerySchema, req.query, 'query');
    const people = deps.ports.people;
    if (people === undefined && lookup === undefined) throw new ChatError('unavailable', 'This server keeps no people directory.');
    const [found, known] = await Promise.all([
      lookup === undefined ? Promise.resolve([]) : askLookup(lookup, query.q, query.limit),
      people === undefined ? Promise.resolve([]) : fromDependency('The store', people.findPeople({ text: query.q, limit: query.limit })),
    ]);
    const body: PeopleList = { people: mergePeople(found, known, query.limit) };
    res.status(200).json(body);
  });

  async function askLookup(ask: PeopleLookup, q: string, limit: number): Promise<Person[]> {
    try {
      return await ask(q, limit);
    } catch (error) {
      // The directory still answers: a slow or failing lookup costs its names, not the request.
      deps.logger.warn({ err: error }, 'people lookup failed; answering from the directory');
      return [];
    }
  }
}
