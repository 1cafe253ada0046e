/**
 * Ramp to thousands of WebSocket connections spread across sessions and gateways; each
 * holds its connection open, pinging, then closes. Thresholds encode the seed's targets.
 *   k6 run -e JWT_SECRET=... -e API_URL=http://host:8081 -e GATEWAY_URLS=ws://host:8080 load-tests/k6/connections-ramp.ts
 */
import { check } from 'k6';
import { Rate, Trend } from 'k6/metrics';
import { setInterval, clearInterval, setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { chatUrl, config, createSessions, seatFor, SEED_ERROR_RATE, SEED_LATENCY_P95, signToken, type ScriptOptions, type TestSession } from './lib/common.ts';

const TARGET_VUS = Number(__ENV['TARGET_VUS'] ?? '5000');
const HOLD_MS = Number(__ENV['HOLD_MS'] ?? '60000');

const welcomeTime = new Trend('chat_welcome_time', true);
const connectErrors = new Rate('chat_connect_errors');

export const options = {
  setupTimeout: '5m',
  scenarios: {
    ramp: {
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: '1m', target: Math.round(TARGET_VUS / 5) },
        { duration: '2m', target: TARGET_VUS },
        { duration: '2m', target: TARGET_VUS },
        { duration: '30s', target: 0 },
      ],
      gracefulRampDown: '30s',
    },
  },
  thresholds: {
    chat_welcome_time: [SEED_LATENCY_P95],
    chat_connect_errors: [SEED_ERROR_RATE],
  },
} satisfies ScriptOptions;

export function setup(): { sessions: TestSession[] } {
  return { sessions: createSessions(Math.ceil(TARGET_VUS / config.membersPerSession), config.membersPerSession) };
}

export default function (data: { sessions: TestSession[] }): void {
  const { session, userId, gatewayUrl } = seatFor(__VU, data.sessions);
  const started = Date.now();
  const ws = new WebSocket(chatUrl(gatewayUrl, session.id, signToken(userId, `k6 ${__VU}`)));
  let welcomed = false;
  let pinger: ReturnType<typeof setInterval> | undefined;
  ws.onmessage = (event) => {
    if (welcomed || typeof event?.data !== 'string') return;
    const frame = JSON.parse(event.data) as { type?: string };
    if (frame.type !== 'welcome') return;
    welcomed = true;
    welcomeTime.add(Date.now() - started);
    connectErrors.add(false);
    pinger = setInterval(() => ws.send(JSON.stringify({ type: 'ping' })), 20_000);
    setTimeout(() => ws.close(), HOLD_MS);
  };
  ws.onerror = () => {
    if (!welcomed) connectErrors.add(true);
  };
  ws.onclose = () => {
    if (pinger !== undefined) clearInterval(pinger);
    check(welcomed, { 'welcomed before close': (value) => value });
  };
}
