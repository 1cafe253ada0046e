import type { ApiClient } from '@chat/client';
import type { SessionSummary } from '@chat/protocol';
import { useEffect, useState } from 'preact/hooks';

export interface SessionListProps {
  api: ApiClient;
  current: string;
  onOpen: (sessionId: string) => void;
  /** Changes whenever something happened in the open session (a message, a read), to refresh at once. */
  pulse: unknown;
  /** How often the list is read again for activity in the other sessions. */
  refreshMs?: number;
}

/** The caller's sessions, newest activity first, with unread badges; the open one is marked current. */
export function SessionList({ api, current, onOpen, pulse, refreshMs = 2_000 }: SessionListProps) {
  const [sessions, setSessions] = useState<readonly SessionSummary[] | undefined>(undefined);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let stopped = false;
    const load = () =>
      api.listSessions({ limit: 50 }).then(
        (list) => {
          if (stopped) return;
          setSessions(list.sessions);
          setFailed(false);
        },
        () => {
          if (!stopped) setFailed(true);
        },
      );
    void load();
    const timer = setInterval(() => void load(), refreshMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api, refreshMs, pulse, current]);

  return (
    <nav class="session-list" aria-label="Your sessions" data-testid="session-list">
      <h2>Sessions</h2>
      {failed && <p class="muted">The list could not be loaded; retrying.</p>}
      {sessions === undefined ? (
        <p class="muted">Loading…</p>
      ) : (
        <ul>
          {sessions.map((session) => {
            const isCurrent = session.id === current;
            const unread = isCurrent ? 0 : session.unread;
            const title = session.title ?? 'Untitled session';
            return (
              <li key={session.id}>
                <button
                  type="button"
                  class={isCurrent ? 'session-item current' : 'session-item'}
                  aria-current={isCurrent ? 'page' : undefined}
                  data-testid="session-item"
                  data-session={session.id}
                  onClick={() => onOpen(session.id)}
                >
                  <span class="session-title">{title}</span>
                  {unread > 0 && (
                    <span class="unread-badge" data-testid="unread-badge" aria-label={`${unread} unread`}>
                      {unread >= 1000 ? '999+' : unread}
                    </span>
                  )}
                  {session.lastMessage !== null && <span class="session-last">{session.lastMessage.kind === 'analysis_result' ? 'Result card' : session.lastMessage.body}</span>}
                  {session.analysisStatus !== null && <span class={`session-status analysis-${session.analysisStatus.state}`}>{session.analysisStatus.state}</span>}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </nav>
  );
}
