/** Messages between the coordinator and its load-generator processes (IPC, structured clone). */

export type SystemKind = 'chat' | 'socketio' | 'relay';

export interface MemberSpec {
  sessionId: string;
  userId: string;
  /** Base URL of the gateway or Socket.IO node this member connects to, e.g. ws://127.0.0.1:8080. */
  target: string;
  /** Loopback source address, so that more than one port range of client sockets is available. */
  localAddress: string;
}

export interface OpenCommand {
  kind: 'open';
  system: SystemKind;
  secret: string;
  members: MemberSpec[];
  concurrency: number;
  /** Give up on one connection after this long. */
  connectTimeoutMs: number;
  /** Stop ramping after this many failures in a row: a limit has been reached. */
  maxConsecutiveFailures: number;
  /** Hard bound on the whole ramp. */
  deadlineMs: number;
}

export interface OpenReply {
  opened: number;
  failed: number;
  durationMs: number;
  openedPerTarget: Record<string, number>;
  openedPerSession: Record<string, number>;
  /** Failure reasons with how often each was seen. */
  failures: Record<string, number>;
  stoppedEarly: boolean;
  /** Why the ramp stopped before its last member, when it did. */
  stopCause: 'deadline' | 'consecutive_failures' | null;
}

export interface RateCommand {
  kind: 'rate';
  stepId: number;
  /** This process's share of the aggregate send rate. */
  sendsPerSec: number;
  durationMs: number;
  /** Wait this long after the last send for acks and deliveries. */
  drainMs: number;
  bodyBytes: number;
}

export interface RateReply {
  sent: number;
  acked: number;
  errors: Record<string, number>;
  ackedPerSession: Record<string, number>;
  /** Send-to-ack latency histogram (encoded). */
  ackHistogram: string;
  sendDurationMs: number;
}

export interface CollectCommand {
  kind: 'collect';
  stepId: number;
}

export interface CollectReply {
  delivered: number;
  /** Deliveries whose seq went backwards or repeated within a session, per receiving connection. */
  outOfOrder: number;
  /** Send-to-delivery latency histogram (encoded). */
  deliveryHistogram: string;
  closedConnections: number;
}

export interface HistoryCommand {
  kind: 'history';
  apiUrl: string;
  sessionId: string;
  token: string;
  maxSeq: number;
  limit: number;
  concurrency: number;
  durationMs: number;
  maxRequests: number;
}

export interface HistoryReply {
  requests: number;
  errors: Record<string, number>;
  histogram: string;
  durationMs: number;
  messagesRead: number;
  /** The generator's own CPU (user + system) over the reads, in microseconds. */
  cpuUs: number;
}

export interface CloseCommand {
  kind: 'close';
}

export interface CloseReply {
  closed: number;
}

export type Command = OpenCommand | RateCommand | CollectCommand | HistoryCommand | CloseCommand;

export interface ReplyFor {
  open: OpenReply;
  rate: RateReply;
  collect: CollectReply;
  history: HistoryReply;
  close: CloseReply;
}

export interface Envelope {
  id: number;
  command: Command;
}

export type ReplyEnvelope = { id: number; ok: true; reply: unknown } | { id: number; ok: false; error: string };

/** Message bodies carry the step and the send time, so any process can time a delivery. */
export function encodeBody(stepId: number, sentAtMs: number, bytes: number): string {
  const head = `b|${stepId}|${sentAtMs.toFixed(3)}|`;
  return head.length >= bytes ? head : head + 'x'.repeat(bytes - head.length);
}

export function decodeBody(body: string): { stepId: number; sentAtMs: number } | null {
  if (!body.startsWith('b|')) return null;
  const second = body.indexOf('|', 2);
  const third = body.indexOf('|', second + 1);
  if (second < 0 || third < 0) return null;
  const stepId = Number(body.slice(2, second));
  const sentAtMs = Number(body.slice(second + 1, third));
  return Number.isFinite(stepId) && Number.isFinite(sentAtMs) ? { stepId, sentAtMs } : null;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}
