import type { RequestHandler } from 'express';
import type { TokenVerifier } from '@chat/auth';
import type { Config } from '@chat/config';
import type { Bus, ChatStore, ChatSwitch, DeadLetterStore, MessageIntake, MessageQueue, PeopleRecorder, PeopleStore, ReadMarks, SessionDirectory, SessionEventLog, SessionLog, SessionRoster, SessionState, UserRateLimiter, WorkspaceStore } from '@chat/core';
import type { Readiness } from '@chat/service-kit';
import type { Logger } from '@chat/telemetry';
import type { PeopleLookup } from './people-lookup.ts';

/** Everything the API needs, built by main.ts (or by the embedded one-process mode). */
export interface ApiDeps {
  config: Config;
  verifier: TokenVerifier;
  state: SessionLog & SessionRoster & Pick<SessionState, 'ping'>;
  bus: Bus;
  intake: MessageIntake;
  directory: SessionDirectory;
  store: ChatStore;
  /** Where session.closed and member.removed go for the webhooks service; without it they are not recorded. */
  sessionEvents?: SessionEventLog;
  /** For the admin dead-letter endpoints; without it they answer 503. */
  deadLetters?: DeadLetterStore;
  /** Read cursors, session lists and analysis status; without it those endpoints answer 503 and history carries no cursors. */
  workspace?: WorkspaceStore;
  readMarks?: ReadMarks;
  /** The people seen through their tokens; without it (and without a lookup) GET /api/chat/people answers 503. */
  people?: PeopleStore;
  /** Notes every verified caller in `people`; without it no one is recorded by this app. */
  peopleRecorder?: PeopleRecorder;
  /** Replaces the lookup PEOPLE_LOOKUP_URL names (tests). */
  peopleLookup?: PeopleLookup;
  logger: Logger;
  /** Only pinged, for readiness: messages reach it through the intake. */
  queue?: MessageQueue;
  /** Checks behind /readyz; by default the store, the live state, the bus and the queue. */
  readiness?: Readiness;
  /**
   * Per-user budgets (posted messages, shared with the gateways' sends; sessions created): the
   * backend's, shared by every replica through Redis. Without it this app counts alone.
   */
  rateLimiter?: UserRateLimiter;
  /** Serves /metrics; a placeholder answers until one is given. */
  metrics?: RequestHandler;
  now?: () => number;
  /** The kill switch (started by its owner); without one chat is always on. */
  chatSwitch?: ChatSwitch;
}
