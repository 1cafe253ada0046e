import type { ChatClient, ChatClientEvents } from '@chat/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from '../error-text.ts';
import { listen } from '../listen.ts';
import { displayName } from '../names.ts';
import { useJumpToMessage } from '../jump-to-message.ts';
import { useChatState } from '../use-chat-state.ts';
import { InputBox } from './InputBox.tsx';
import { MessageList } from './MessageList.tsx';
import { SearchPanel } from './SearchPanel.tsx';
import { StatusBar } from './StatusBar.tsx';

export interface ChatContainerProps {
  client: ChatClient;
  title?: string;
}

/** One session's chat: connects on mount, closes on unmount. */
export function ChatContainer({ client, title }: ChatContainerProps) {
  const state = useChatState(client);
  const announcement = useLiveAnnouncement(client);
  const [draft, setDraft] = useState('');
  const [dismissedError, setDismissedError] = useState<object | undefined>(undefined);
  const firstPageIn = !state.loadingOlder && (state.messages.length > 0 || !state.hasOlder);
  const unread = useUnreadMarker(state.userId === undefined ? undefined : state.reads[state.userId], state.messages.at(-1)?.seq ?? 0, firstPageIn);
  useMarkRead(client, state.messages.at(-1)?.seq);
  const [found, jumpTo] = useJumpToMessage(client);

  useEffect(() => {
    // The newest page of history, once: after the first welcome, or as soon as chat turns out to be
    // off (no welcome comes then, but history stays readable over REST).
    let firstPage: 'wanted' | 'loading' | 'loaded' = 'wanted';
    const loadFirstPage = () => {
      if (firstPage !== 'wanted') return;
      firstPage = 'loading';
      client.loadOlder().then(
        () => (firstPage = 'loaded'),
        () => (firstPage = 'wanted'),
      );
    };
    const unsubscribe = client.store.subscribe((state) => {
      if (state.connection.status === 'disabled') loadFirstPage();
    });
    client.on('welcome', loadFirstPage);
    client.connect();
    return () => {
      unsubscribe();
      client.off('welcome', loadFirstPage);
      client.close();
    };
  }, [client]);

  const closed = state.sessionClosed || state.connection.status === 'closed';
  const turnedOff = state.connection.status === 'disabled';
  const lastError = state.lastError !== dismissedError ? state.lastError : undefined;
  return (
    <main class="chat" aria-label={title ?? 'Chat'}>
      {title && <h1 class="chat-title">{title}</h1>}
      <StatusBar state={state} onReconnectNow={() => client.reconnectNow()} />
      {state.sessionClosed && (
        <div class="banner banner-error" role="alert" data-testid="session-closed">
          {errorText('not_found')}
        </div>
      )}
      {lastError && (
        <div class="banner banner-error" role="alert" data-testid="error-banner">
          <span>{errorText(lastError.code, lastError.message)}</span>
          <button type="button" onClick={() => setDismissedError(state.lastError)}>
            Dismiss
          </button>
        </div>
      )}
      <SearchPanel client={client} names={state.names} me={state.userId} onJump={jumpTo} />
      <MessageList
        messages={state.messages}
        outgoing={state.outgoing}
        names={state.names}
        me={state.userId}
        hasOlder={state.hasOlder}
        loadingOlder={state.loadingOlder}
        onLoadOlder={() => void client.loadOlder().catch(() => undefined)}
        onRetry={(id) => void client.retry(id).catch(() => undefined)}
        onDiscard={(id) => client.discard(id)}
        reads={state.reads}
        unreadAfter={unread?.after}
        unreadUpTo={unread?.upTo}
        found={found}
        onEdit={(id) => {
          // Puts a refused message back into the input so it can be shortened, and drops the failed copy.
          const failed = state.outgoing.find((o) => o.clientMsgId === id);
          if (failed) setDraft(failed.body);
          client.discard(id);
        }}
      />
      <div class="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="announcer">
        {announcement}
      </div>
      <InputBox
        text={draft}
        onText={setDraft}
        disabled={closed || turnedOff}
        disabledReason={turnedOff ? 'Chat is turned off.' : closed ? 'This chat is closed.' : undefined}
        onSend={(body) => void client.send(body).catch(() => undefined)}
        onTyping={() => client.typing()}
      />
    </main>
  );
}

/**
 * Where the "New messages" marker goes: between my read cursor and the newest message as they
 * were when the first page arrived (what was unread on opening). It stays there while I read, so
 * I see where I was; messages arriving later are read as they come and get none.
 */
function useUnreadMarker(myCursor: number | undefined, newest: number, loaded: boolean): { after: number; upTo: number } | undefined {
  const at = useRef<{ after: number; upTo: number } | undefined>(undefined);
  if (at.current === undefined && loaded) at.current = { after: myCursor ?? 0, upTo: newest };
  return at.current;
}

/** Marks the newest message read while the page is visible, and again when it becomes visible. */
function useMarkRead(client: ChatClient, newest: number | undefined): void {
  useEffect(() => {
    const mark = () => {
      if (newest !== undefined && document.visibilityState === 'visible') client.markRead(newest);
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [client, newest]);
}

/** Words for a screen reader about the newest message from someone else (not history being loaded). */
function useLiveAnnouncement(client: ChatClient): string {
  const [text, setText] = useState('');
  const liveFrom = useRef<number | undefined>(undefined);
  useEffect(() => {
    const onWelcome = (frame: { seq: number }) => {
      liveFrom.current ??= frame.seq;
    };
    const onMessage = (message: { seq: number; userId: string; body: string }) => {
      const state = client.store.getState();
      if (liveFrom.current === undefined || message.seq <= liveFrom.current || message.userId === state.userId) return;
      liveFrom.current = message.seq;
      setText(`New message from ${displayName(message.userId, state.names, state.userId)}: ${message.body}`);
    };
    return listen<ChatClientEvents>(client, { welcome: onWelcome, message: onMessage });
  }, [client]);
  return text;
}
