import { applyFeedFrame, type ApiClient, type FeedClient, type FeedClientEvents } from '@chat/client';
import type { AnalysisStatusFrame, FeedMessageFrame, FeedOpenFrame, FeedReadFrame, SessionSummary } from '@chat/protocol';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConnectionState } from '@chat/client';
import { listen } from '../listen.ts';

export interface SessionListProps {
  api: ApiClient;
  /** The user's feed: badges and order follow it live; the list is read again on each (re)connect. */
  feed: FeedClient;
  current: string;
  onOpen: (sessionId: string) => void;
  /** Changes whenever something happened in the open session; read at once while the feed is down. */
  pulse: unknown;
  /** While the feed is down, how often the list is read again instead. */
  fallbackRefreshMs?: number;
}

/** The caller's sessions, newest activity first, with unread badges; the open one is marked current. */
export function SessionList({ api, feed, current, onOpen, pulse, fallbackRefreshMs = 15_000 }: SessionListProps) {
  const [sessions, setSessions] = useState<readonly SessionSummary[] | undefined>(undefined);
  const [failed, setFailed] = useState(false);
  const [live, setLive] = useState(false);
  const [reloads, setReloads] = useState(0);
  // Feed frames are applied to the latest list, not to the one of the render they came in.
  const latest = useRef<readonly SessionSummary[] | undefined>(undefined);
  const me = useRef<string | undefined>(undefined);

  useEffect(() => {
    let stopped = false;
    const load = () =>
      api.listSessions({ limit: 50 }).then(
        (list) => {
          if (stopped) return;
          latest.current = list.sessions;
          setSessions(list.sessions);
          setFailed(false);
        },
        () => {
          if (!stopped) setFailed(true);
        },
      );
    void load();
    const timer = live ? undefined : setInterval(() => void load(), fallbackRefreshMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api, live, reloads, fallbackRefreshMs, live ? 0 : pulse, current]);

  useEffect(() => {
    const reload = () => setReloads((n) => n + 1);
    const onOpened = (frame: FeedOpenFrame) => {
      me.current = frame.userId;
      setLive(true);
      // Whatever happened while the feed was down is not replayed: read the list once.
      reload();
    };
    const onState = (state: ConnectionState) => {
      if (state.status !== 'open') setLive(false);
    };
    const apply = (frame: FeedMessageFrame | FeedReadFrame | AnalysisStatusFrame) => {
      const list = latest.current;
      if (list === undefined || me.current === undefined) return;
      const update = applyFeedFrame(list, frame, me.current);
      latest.current = update.sessions;
      setSessions(update.sessions);
      if (update.stale) reload();
    };
    return listen<FeedClientEvents>(feed, {
      open: onOpened,
      state: onState,
      feed_message: apply,
      feed_read: apply,
      analysis_status: apply,
      session_added: reload,
      session_removed: reload,
    });
  }, [feed]);

  return (
    <nav class="session-list" aria-label="Your sessions" data-testid="session-list" data-feed={live ? 'live' : 'polling'}>
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
