import { LatencyRecorder } from '../histogram.ts';
import type { HistoryCommand, HistoryReply } from './protocol.ts';

/** Closed-loop REST history reads with random `before` cursors, bounded by count and time. */
export async function runHistoryLoad(command: HistoryCommand): Promise<HistoryReply> {
  const histogram = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let requests = 0;
  let messagesRead = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const headers = { authorization: `Bearer ${command.token}` };
  const lane = async () => {
    while (requests < command.maxRequests && performance.now() - started < command.durationMs) {
      requests++;
      // One read in ten is the latest page; the rest scroll back from a random point.
      const before = requests % 10 === 0 ? 0 : 1 + command.limit + Math.floor(Math.random() * Math.max(1, command.maxSeq - command.limit));
      const query = before > 0 ? `&before=${before}` : '';
      const url = `${command.apiUrl}/api/chat/history/${command.sessionId}?limit=${command.limit}${query}`;
      const t0 = performance.now();
      try {
        const response = await fetch(url, { headers });
        const body = (await response.json()) as { messages?: unknown[] };
        histogram.recordMs(performance.now() - t0);
        if (!response.ok) errors[`http_${response.status}`] = (errors[`http_${response.status}`] ?? 0) + 1;
        else if (!Array.isArray(body.messages) || body.messages.length === 0) errors['empty_page'] = (errors['empty_page'] ?? 0) + 1;
        else messagesRead += body.messages.length;
      } catch (error) {
        const code = (error as { cause?: { code?: string } }).cause?.code ?? 'fetch_failed';
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, command.concurrency) }, lane));
  const cpu = process.cpuUsage(cpuBefore);
  return { requests, errors, histogram: histogram.encode(), durationMs: performance.now() - started, messagesRead, cpuUs: cpu.user + cpu.system };
}
