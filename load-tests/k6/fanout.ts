/**
 * Chat fan-out: sessions × members spread over the gateways, every member receiving and a
 * share of them sending at a fixed rate; the send-to-delivery time of each message at each
 * receiver goes into a Trend (the send time travels in the body; one clock when the
 * load generator is one machine).
 *   k6 run -e JWT_SECRET=... -e GATEWAY_URLS=ws://a:8080,ws://b:8080 -e SESSIONS=50 -e MEMBERS=20 load-tests/k6/fanout.ts
 */
import { check } from 'k6';
import { Counter, Rate, Trend } from 'k6/metrics';
import { setInterval, clearInterval, setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { chatUrl, config, createSessions, seatFor, SEED_ERROR_RATE, SEED_LATENCY_P95, signToken, type ScriptOptions, type TestSession } from './lib/common.ts';

const DURATION_MS = Number(__ENV['DURATION_MS'] ?? '60000');
/** Sends per second of each sending member. */
const SEND_RATE = Number(__ENV['SEND_RATE'] ?? '1');
/** One member in this many sends; all receive. */
const SENDER_EVERY = Number(__ENV['SENDER_EVERY'] ?? '4');

const sendToDelivery = new Trend('chat_send_to_delivery', true);
const sendToAck = new Trend('chat_send_to_ack', true);
const messageErrors = new Rate('chat_message_errors');
const delivered = new Counter('chat_messages_delivered');

const VUS = config.sessions * config.membersPerSession;

export const options = {
  setupTimeout: '5m',
  scenarios: {
    fanout: { executor: 'per-vu-iterations', vus: VUS, iterations: 1, maxDuration: `${Math.ceil(DURATION_MS / 1000) + 60}s` },
  },
  thresholds: {
    chat_send_to_delivery: [SEED_LATENCY_P95, 'p(99)<200'],
    chat_send_to_ack: [SEED_LATENCY_P95],
    chat_message_errors: [SEED_ERROR_RATE],
  },
} satisfies ScriptOptions;

interface Frame {
  type?: string;
  body?: string;
  clientMsgId?: string;
}

export function setup(): { sessions: TestSession[] } {
  return { sessions: createSessions(config.sessions, config.membersPerSession) };
}

export default function (data: { sessions: TestSession[] }): void {
  const { session, userId, gatewayUrl } = seatFor(__VU, data.sessions);
  const ws = new WebSocket(chatUrl(gatewayUrl, session.id, signToken(userId, `k6 ${__VU}`)));
  const pending = new Map<string, number>();
  let sender: ReturnType<typeof setInterval> | undefined;
  let counter = 0;
  ws.onmessage = (event) => {
    if (typeof event?.data !== 'string') return;
    const frame = JSON.parse(event.data) as Frame;
    switch (frame.type ?? '') {
      case 'welcome':
        // Everyone listens for the whole run; only some send, after all have had time to join.
        setTimeout(() => ws.close(), DURATION_MS + 5000);
        if (__VU % SENDER_EVERY === 0) {
          setTimeout(() => {
            const interval = setInterval(() => {
              const clientMsgId = `${__VU}-${++counter}`;
              const now = Date.now();
              pending.set(clientMsgId, now);
              ws.send(JSON.stringify({ type: 'send', clientMsgId, body: `k6|${now}|fan-out` }));
            }, 1000 / SEND_RATE);
            sender = interval;
            setTimeout(() => clearInterval(interval), DURATION_MS);
          }, 3000);
        }
        return;
      case 'message': {
        const sentAt = Number(frame.body?.split('|')[1]);
        if (Number.isFinite(sentAt)) sendToDelivery.add(Date.now() - sentAt);
        delivered.add(1);
        return;
      }
      case 'ack': {
        const sentAt = pending.get(frame.clientMsgId ?? '');
        if (sentAt !== undefined) {
          sendToAck.add(Date.now() - sentAt);
          pending.delete(frame.clientMsgId ?? '');
          messageErrors.add(false);
        }
        return;
      }
      case 'error':
        messageErrors.add(true);
        return;
      default:
        return;
    }
  };
  ws.onclose = () => {
    if (sender !== undefined) clearInterval(sender);
    // A send never acknowledged by the end counts as an error.
    for (let i = 0; i < pending.size; i++) messageErrors.add(true);
    check(pending.size, { 'every send acknowledged': (size) => size === 0 });
  };
}
