import { Agent, get } from 'node:http';
import { LatencyRecorder } from '../histogram.ts';
import type { HistoryCommand, HistoryReply } from './protocol.ts';

interface Page {
  status: number;
  body: string;
}

/**
 * One GET over the lane's kept-alive socket. node:http rather than fetch: fetch cost the generator
 * about as much CPU per page as the session-api spent serving it, on the same two cores, so the
 * generator's own waits for a core were part of the latency it measured.
 */
function getPage(url: string, headers: Record<string, string>, agent: Agent): Promise<Page> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
  });
}

/** Closed-loop REST history reads with random `before` cursors, bounded by count and time. */
export async function runHistoryLoad(command: HistoryCommand): Promise<HistoryReply> {
  const histogram = new LatencyRecorder();
  const errors: Record<string, number> = {};
  let requests = 0;
  let messagesRead = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const headers = { authorization: `Bearer ${command.token}` };
  const lanes = Math.max(1, command.concurrency);
  const agent = new Agent({ keepAlive: true, maxSockets: lanes });
  const lane = async () => {
    while (requests < command.maxRequests && performance.now() - started < command.durationMs) {
      requests++;
      // One read in ten is the latest page; the rest scroll back from a random point.
      const before = requests % 10 === 0 ? 0 : 1 + command.limit + Math.floor(Math.random() * Math.max(1, command.maxSeq - command.limit));
      const query = before > 0 ? `&before=${before}` : '';
      const url = `${command.apiUrl}/api/chat/history/${command.sessionId}?limit=${command.limit}${query}`;
      const t0 = performance.now();
      try {
        const response = await getPage(url, headers, agent);
        const body = JSON.parse(response.body) as { messages?: unknown[] };
        histogram.recordMs(performance.now() - t0);
        const ok = response.status >= 200 && response.status < 300;
        if (!ok) errors[`http_${response.status}`] = (errors[`http_${response.status}`] ?? 0) + 1;
        else if (!Array.isArray(body.messages) || body.messages.length === 0) errors['empty_page'] = (errors['empty_page'] ?? 0) + 1;
        else messagesRead += body.messages.length;
      } catch (error) {
        const code = (error as { code?: string }).code ?? 'request_failed';
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    agent.destroy();
  }
  const cpu = process.cpuUsage(cpuBefore);
  return { requests, errors, histogram: histogram.encode(), durationMs: performance.now() - started, messagesRead, cpuUs: cpu.user + cpu.system };
}
