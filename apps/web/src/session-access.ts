import { ChatClientError, type ApiClient } from '@chat/client';
import type { Session } from '@chat/protocol';
import { useEffect, useState } from 'preact/hooks';

export type SessionAccess =
  | { state: 'checking' }
  | { state: 'member'; session: Session }
  /** Signed in, but not one of the session's members: a shared link reached someone it was not for. */
  | { state: 'not_member' }
  | { state: 'not_found' }
  /** The session could not be read just now; the chat connection reports what is wrong. */
  | { state: 'unknown' };

/** Reads the session once, to tell a member from someone who opened a link to a session not theirs. */
export function useSessionAccess(api: ApiClient, sessionId: string): [SessionAccess, (session: Session) => void] {
  const [access, setAccess] = useState<SessionAccess>({ state: 'checking' });
  useEffect(() => {
    let current = true;
    setAccess({ state: 'checking' });
    api.getSession(sessionId).then(
      (session) => current && setAccess({ state: 'member', session }),
      (error: unknown) => {
        if (!current) return;
        const code = error instanceof ChatClientError ? error.code : undefined;
        setAccess({ state: code === 'forbidden' ? 'not_member' : code === 'not_found' || code === 'invalid_input' ? 'not_found' : 'unknown' });
      },
    );
    return () => {
      current = false;
    };
  }, [api, sessionId]);
  return [access, (session) => setAccess({ state: 'member', session })];
}
