/**
 * A load-generator process: holds client connections and drives traffic on the
 * coordinator's commands. Several run side by side so that no process passes its
 * open-file limit and the servers never share a process with their load.
 */
import { TokenSigner } from '../tokens.ts';
import { LatencyRecorder } from '../histogram.ts';
import { connectClient, ConnectError, type BenchClient } from './clients.ts';
import { runHistoryLoad } from './history-load.ts';
import {
  decodeBody,
  encodeBody,
  nowMs,
  type CloseReply,
  type CollectReply,
  type Command,
  type Envelope,
  type OpenCommand,
  type OpenReply,
  type RateCommand,
  type RateReply,
  type ReplyEnvelope,
} from './protocol.ts';

interface StepDeliveries {
  delivered: number;
  histogram: LatencyRecorder;
}

class LoadGenerator {
  readonly #clients: BenchClient[] = [];
  readonly #deliveries = new Map<number, StepDeliveries>();
  readonly #pendingAcks = new Map<string, { sentAt: number; sessionId: string }>();
  #ackHistogram = new LatencyRecorder();
  #acked = 0;
  #ackedPerSession: Record<string, number> = {};
  #errors: Record<string, number> = {};
  #outOfOrder = 0;
  #closed = 0;
  #msgCounter = 0;

  async handle(command: Command): Promise<unknown> {
    switch (command.kind) {
      case 'open':
        return this.open(command);
      case 'rate':
        return this.rate(command);
      case 'collect':
        return this.collect(command.stepId);
      case 'history':
        return runHistoryLoad(command);
      case 'close':
        return this.close();
    }
  }

  async open(command: OpenCommand): Promise<OpenReply> {
    const signer = new TokenSigner(command.secret);
    const started = performance.now();
    const reply: OpenReply = { opened: 0, failed: 0, durationMs: 0, openedPerTarget: {}, openedPerSession: {}, failures: {}, stoppedEarly: false, stopCause: null };
    let next = 0;
    let consecutiveFailures = 0;
    const shouldStop = () => {
      if (consecutiveFailures >= command.maxConsecutiveFailures) reply.stopCause = 'consecutive_failures';
      else if (performance.now() - started > command.deadlineMs) reply.stopCause = 'deadline';
      return reply.stopCause !== null;
    };
    const lane = async () => {
      while (next < command.members.length) {
        if (shouldStop()) {
          reply.stoppedEarly = true;
          return;
        }
        const member = command.members[next++];
        if (!member) return;
        try {
          const token = await signer.sign({ sub: member.userId, name: `bench-${member.userId.slice(0, 8)}` });
          const client = await connectClient({
            system: command.system,
            target: member.target,
            sessionId: member.sessionId,
            token,
            localAddress: member.localAddress,
            timeoutMs: command.connectTimeoutMs,
            handlers: this.#handlersFor(),
          });
          this.#clients.push(client);
          reply.opened++;
          reply.openedPerTarget[member.target] = (reply.openedPerTarget[member.target] ?? 0) + 1;
          reply.openedPerSession[member.sessionId] = (reply.openedPerSession[member.sessionId] ?? 0) + 1;
          consecutiveFailures = 0;
        } catch (error) {
          const reason = error instanceof ConnectError ? error.reason : String(error);
          reply.failed++;
          reply.failures[reason] = (reply.failures[reason] ?? 0) + 1;
          consecutiveFailures++;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, command.concurrency) }, lane));
    reply.durationMs = performance.now() - started;
    return reply;
  }

  #handlersFor() {
    let lastSeq = 0;
    return {
      onMessage: (_sessionId: string, seq: number, body: string) => {
        if (seq <= lastSeq) this.#outOfOrder++;
        lastSeq = seq;
        const decoded = decodeBody(body);
        if (!decoded) return;
        let step = this.#deliveries.get(decoded.stepId);
        if (!step) {
          step = { delivered: 0, histogram: new LatencyRecorder() };
          this.#deliveries.set(decoded.stepId, step);
        }
        step.delivered++;
        step.histogram.recordMs(nowMs() - decoded.sentAtMs);
      },
      onAck: (clientMsgId: string) => {
        const pending = this.#pendingAcks.get(clientMsgId);
        if (!pending) return;
        this.#pendingAcks.delete(clientMsgId);
        this.#acked++;
        this.#ackedPerSession[pending.sessionId] = (this.#ackedPerSession[pending.sessionId] ?? 0) + 1;
        this.#ackHistogram.recordMs(nowMs() - pending.sentAt);
      },
      onSendError: (code: string, clientMsgId: string | undefined) => {
        if (clientMsgId !== undefined) this.#pendingAcks.delete(clientMsgId);
        this.#errors[code] = (this.#errors[code] ?? 0) + 1;
      },
      onClosed: () => {
        this.#closed++;
      },
    };
  }

  /** Open-loop sending at a fixed rate: late ticks catch up, so a slow server cannot lower the offered load. */
  async rate(command: RateCommand): Promise<RateReply> {
    this.#ackHistogram = new LatencyRecorder();
    this.#acked = 0;
    this.#ackedPerSession = {};
    this.#errors = {};
    this.#pendingAcks.clear();
    const total = Math.round((command.sendsPerSec * command.durationMs) / 1000);
    let sent = 0;
    let cursor = 0;
    const started = performance.now();
    if (this.#clients.length > 0) {
      while (sent < total && performance.now() - started < command.durationMs * 2) {
        const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * command.sendsPerSec) + 1);
        while (sent < due) {
          const client = this.#clients[cursor++ % this.#clients.length];
          if (!client) break;
          const clientMsgId = `${process.pid}-${++this.#msgCounter}`;
          const sentAt = nowMs();
          this.#pendingAcks.set(clientMsgId, { sentAt, sessionId: client.sessionId });
          client.send(clientMsgId, encodeBody(command.stepId, sentAt, command.bodyBytes));
          sent++;
        }
        await sleep(2);
      }
    }
    const sendDurationMs = performance.now() - started;
    const drainUntil = performance.now() + command.drainMs;
    while (this.#pendingAcks.size > 0 && performance.now() < drainUntil) await sleep(20);
    await sleep(Math.max(0, Math.min(500, drainUntil - performance.now())));
    if (this.#pendingAcks.size > 0) this.#errors['no_ack'] = (this.#errors['no_ack'] ?? 0) + this.#pendingAcks.size;
    return {
      sent,
      acked: this.#acked,
      errors: { ...this.#errors },
      ackedPerSession: { ...this.#ackedPerSession },
      ackHistogram: this.#ackHistogram.encode(),
      sendDurationMs,
    };
  }

  collect(stepId: number): CollectReply {
    const step = this.#deliveries.get(stepId);
    this.#deliveries.delete(stepId);
    return {
      delivered: step?.delivered ?? 0,
      outOfOrder: this.#outOfOrder,
      deliveryHistogram: (step?.histogram ?? new LatencyRecorder()).encode(),
      closedConnections: this.#closed,
    };
  }

  close(): CloseReply {
    const closed = this.#clients.length;
    for (const client of this.#clients.splice(0)) client.close();
    return { closed };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const generator = new LoadGenerator();

process.on('message', (message: Envelope) => {
  generator.handle(message.command).then(
    (reply) => send({ id: message.id, ok: true, reply }),
    (error: unknown) => send({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});

// The coordinator owns this process: when it goes, so do we.
process.on('disconnect', () => process.exit(0));

function send(reply: ReplyEnvelope): void {
  process.send?.(reply);
}
