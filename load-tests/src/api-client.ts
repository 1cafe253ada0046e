import { randomUUID } from 'node:crypto';
import type { TokenSigner } from './tokens.ts';

export class ApiError extends Error {
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

export interface BenchSession {
  id: string;
  members: string[];
}

/** Creates sessions through the session-api as a service caller (scope chat:admin). */
export async function createSessions(apiUrl: string, signer: TokenSigner, count: number, membersPerSession: number, concurrency = 8): Promise<BenchSession[]> {
  const token = await signer.sign({ sub: randomUUID(), name: 'bench-admin', scope: 'chat:admin' });
  const sessions: BenchSession[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next++;
      const members = Array.from({ length: membersPerSession }, () => randomUUID());
      const response = await fetch(`${apiUrl}/api/chat/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ title: `bench ${index}`, members }),
      });
      if (response.status !== 201) throw new ApiError(`POST /api/chat/sessions answered ${response.status}: ${await response.text()}`, response.status);
      const body = (await response.json()) as { id: string };
      sessions[index] = { id: body.id, members };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, count)) }, lane));
  return sessions;
}

/** Sessions for the baseline, which keeps no session registry: ids and members only. */
export function localSessions(count: number, membersPerSession: number): BenchSession[] {
  return Array.from({ length: count }, () => ({ id: randomUUID(), members: Array.from({ length: membersPerSession }, () => randomUUID()) }));
}
