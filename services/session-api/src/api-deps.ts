import type { RequestHandler } from 'express';
import type { TokenVerifier } from '@chat/auth';
import type { Config } from '@chat/config';
import type { Backend } from '@chat/composition';
import type { ChatSwitch } from '@chat/core';
import type { Readiness } from '@chat/service-kit';
import type { Logger } from '@chat/telemetry';
import type { PeopleLookup } from './people-lookup.ts';

/**
 * The ports the API works through, as the composition's backend holds them. Without `queue` it
 * is not pinged for readiness (messages reach it through the intake); without `sessionEvents`,
 * session.closed and member.removed are not recorded for the webhooks service; without
 * `deadLetters` the admin dead-letter endpoints answer 503; without `workspace` the read-cursor,
 * session-list, analysis-status and search endpoints answer 503 and history carries no cursors;
 * without `people` (and a lookup) GET /api/chat/people answers 503; without `peopleRecorder` no
 * caller is recorded; without `rateLimiter` (the backend's, shared by every replica and gateway
 * through Redis) this app counts each user's budgets alone.
 */
export type ApiPorts = Pick<Backend, 'state' | 'bus' | 'intake' | 'directory' | 'store'> &
  Partial<Pick<Backend, 'queue' | 'sessionEvents' | 'deadLetters' | 'workspace' | 'people' | 'peopleRecorder' | 'rateLimiter'>>;

/** Everything the API needs, built by main.ts (or by the embedded one-process mode). */
export interface ApiDeps {
  config: Config;
  verifier: TokenVerifier;
  ports: ApiPorts;
  /** Replaces the lookup PEOPLE_LOOKUP_URL names (tests). */
  peopleLookup?: PeopleLookup;
  logger: Logger;
  /** Checks behind /readyz; by default the store, the live state, the bus and the queue. */
  readiness?: Readiness;
  /** Serves /metrics; a placeholder answers until one is given. */
  metrics?: RequestHandler;
  now?: () => number;
  /** The kill switch (started by its owner); without one chat is always on. */
  chatSwitch?: ChatSwitch;
}
