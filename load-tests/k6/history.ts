/**
 * REST history reads at a constant arrival rate on a session filled beforehand (see
 * README: seed it with one INSERT … SELECT generate_series, or let fanout.ts run first).
 *   k6 run -e JWT_SECRET=... -e API_URL=http://host:8081 -e SESSION_ID=... -e READER_ID=... -e MAX_SEQ=1000000 load-tests/k6/history.ts
 */
import { check } from 'k6';
import http from 'k6/http';
import { Rate } from 'k6/metrics';
import { config, createSessions, SEED_ERROR_RATE, SEED_LATENCY_P95, signToken, type ScriptOptions } from './lib/common.ts';

const RATE = Number(__ENV['RATE'] ?? '200');
const MAX_SEQ = Number(__ENV['MAX_SEQ'] ?? '1000000');
const PAGE = Number(__ENV['PAGE'] ?? '50');

const pageErrors = new Rate('chat_history_errors');

export const options = {
  scenarios: {
    reads: { executor: 'constant-arrival-rate', rate: RATE, timeUnit: '1s', duration: __ENV['DURATION'] ?? '1m', preAllocatedVUs: 50, maxVUs: 500 },
  },
  thresholds: {
    http_req_duration: [SEED_LATENCY_P95, 'p(99)<20'],
    http_req_failed: [SEED_ERROR_RATE],
    chat_history_errors: [SEED_ERROR_RATE],
  },
} satisfies ScriptOptions;

interface Setup {
  sessionId: string;
  token: string;
}

export function setup(): Setup {
  const given = __ENV['SESSION_ID'];
  const reader = __ENV['READER_ID'];
  if (given !== undefined && reader !== undefined) return { sessionId: given, token: signToken(reader, 'k6 reader') };
  // Without a seeded session, read an empty one: it still exercises auth, routing and the query.
  const [session] = createSessions(1, 1);
  if (!session?.members[0]) throw new Error('could not create a session');
  return { sessionId: session.id, token: signToken(session.members[0], 'k6 reader') };
}

export default function (data: Setup): void {
  const before = 1 + PAGE + Math.floor(Math.random() * Math.max(1, MAX_SEQ - PAGE));
  const query = __ITER % 10 === 0 ? '' : `&before=${before}`;
  const response = http.get(`${config.apiUrl}/api/chat/history/${data.sessionId}?limit=${PAGE}${query}`, {
    headers: { authorization: `Bearer ${data.token}` },
    tags: { name: 'GET /api/chat/history/{session_id}' },
  });
  const ok = check(response, {
    'status 200': (r) => r.status === 200,
    'messages in ascending seq': (r) => {
      const messages = (r.json() as { messages?: { seq: number }[] }).messages ?? [];
      return messages.every((m, i) => i === 0 || (messages[i - 1]?.seq ?? 0) < m.seq);
    },
  });
  pageErrors.add(!ok);
}
