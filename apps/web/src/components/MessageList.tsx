import type { OutgoingMessage } from '@chat/client';
import { isSeqGap, type ChatMessage } from '@chat/protocol';
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import { canRetry, errorText } from '../error-text.ts';
import { displayName, fullTime, listNames, shortTime } from '../names.ts';
import { ResultCard, resultOf } from './ResultCard.tsx';

export interface MessageListProps {
  messages: readonly ChatMessage[];
  outgoing: readonly OutgoingMessage[];
  names: Readonly<Record<string, string>>;
  me: string | undefined;
  hasOlder: boolean;
  loadingOlder: boolean;
  onLoadOlder: () => void;
  onRetry: (clientMsgId: string) => void;
  onDiscard: (clientMsgId: string) => void;
  onEdit: (clientMsgId: string) => void;
  /** userId → read cursor, for "Seen by" on my messages. */
  reads?: Readonly<Record<string, number>>;
  /** Messages after this seq (not mine) are new: a marker goes before the first of them. */
  unreadAfter?: number | undefined;
  /** …and at most this seq (what was there when the session opened). */
  unreadUpTo?: number | undefined;
  /** A message jumped to from search: scrolled to and marked; `count` changes on every jump. */
  found?: { seq: number; count: number } | undefined;
}

const NEAR_EDGE_PX = 48;

/** Messages by seq, then my unsent ones; scrolling to the top loads older history. */
export function MessageList(props: MessageListProps) {
  const { messages, outgoing, names, me, hasOlder, loadingOlder, onLoadOlder } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const previous = useRef({ height: 0, firstSeq: undefined as number | undefined });

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const firstSeq = messages[0]?.seq;
    const prepended = previous.current.firstSeq !== undefined && firstSeq !== undefined && firstSeq < previous.current.firstSeq;
    // Older messages went in above: keep what the reader was looking at in place.
    if (prepended && !atBottom.current) el.scrollTop += el.scrollHeight - previous.current.height;
    else if (atBottom.current) el.scrollTop = el.scrollHeight;
    previous.current = { height: el.scrollHeight, firstSeq };
  }, [messages, outgoing]);

  const found = props.found;
  useEffect(() => {
    if (found === undefined) return;
    const item = scroller.current?.querySelector<HTMLElement>(`[data-testid="message"][data-seq="${found.seq}"]`);
    item?.scrollIntoView({ block: 'center' });
    item?.focus({ preventScroll: true });
  }, [found]);

  // A gap record only keeps the seqs gapless; there is nothing to show.
  const visible = messages.filter((m) => !isSeqGap(m));
  const unreadAfter = props.unreadAfter;
  const unreadUpTo = props.unreadUpTo ?? Number.POSITIVE_INFINITY;
  const firstUnread = unreadAfter === undefined ? undefined : visible.find((m) => m.seq > unreadAfter && m.seq <= unreadUpTo && m.userId !== me)?.id;
  const reads = props.reads ?? {};
  const seenBy = (seq: number): string[] =>
    Object.entries(reads)
      .filter(([userId, readSeq]) => userId !== me && readSeq >= seq)
      .map(([userId]) => displayName(userId, names, me));

  const onScroll = () => {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_EDGE_PX;
    if (el.scrollTop < NEAR_EDGE_PX && hasOlder && !loadingOlder) onLoadOlder();
  };

  return (
    <div class="message-scroller" ref={scroller} onScroll={onScroll} data-testid="message-list">
      <div class="history-edge">
        {loadingOlder ? (
          <p role="status" data-testid="loading-older">
            Loading older messages…
          </p>
        ) : hasOlder ? (
          <button type="button" class="link" onClick={onLoadOlder}>
            Load older messages
          </button>
        ) : (
          <p class="muted">This is the start of the conversation.</p>
        )}
      </div>
      <ol class="messages" aria-label="Messages">
        {visible.map((m) => [
          m.id === firstUnread ? (
            <li key="first-unread" class="unread-marker" data-testid="unread-marker" role="separator" aria-label="New messages">
              New messages
            </li>
          ) : null,
          <SentItem key={m.id} message={m} author={displayName(m.userId, names, me)} mine={m.userId === me} seenBy={m.userId === me ? seenBy(m.seq) : []} found={m.seq === found?.seq} />,
        ])}
        {outgoing.map((o) => (
          <OutgoingItem key={o.clientMsgId} message={o} onRetry={props.onRetry} onDiscard={props.onDiscard} onEdit={props.onEdit} />
        ))}
      </ol>
    </div>
  );
}

function SentItem({ message, author, mine, seenBy, found }: { message: ChatMessage; author: string; mine: boolean; seenBy: readonly string[]; found: boolean }) {
  const result = resultOf(message.metadata);
  return (
    <li
      class={`${mine ? 'message mine' : 'message'}${found ? ' found' : ''}`}
      data-seq={message.seq}
      data-testid="message"
      {...(found ? { 'data-found': 'true', 'aria-current': 'true', tabIndex: -1 } : {})}
    >
      <div class="meta">
        <span class="author">{author}</span>
        <time dateTime={message.timestamp} title={fullTime(message.timestamp)}>
          {shortTime(message.timestamp)}
        </time>
        {mine && (
          <span class="delivery sent" data-testid="delivery">
            Sent
          </span>
        )}
      </div>
      {result ? <ResultCard result={result} /> : <p class="body">{message.body}</p>}
      {mine && seenBy.length > 0 && (
        <p class="seen-by" data-testid="seen-by">
          Seen by {listNames([...seenBy])}
        </p>
      )}
    </li>
  );
}

interface OutgoingItemProps {
  message: OutgoingMessage;
  onRetry: (clientMsgId: string) => void;
  onDiscard: (clientMsgId: string) => void;
  onEdit: (clientMsgId: string) => void;
}

function OutgoingItem({ message, onRetry, onDiscard, onEdit }: OutgoingItemProps) {
  const failed = message.status === 'failed';
  return (
    <li class={failed ? 'message mine failed' : 'message mine pending'} data-testid="message">
      <div class="meta">
        <span class="author">You</span>
        <time dateTime={message.createdAt} title={fullTime(message.createdAt)}>
          {shortTime(message.createdAt)}
        </time>
        <span class={`delivery ${message.status}`} data-testid="delivery">
          {failed ? 'Not sent' : 'Sending…'}
        </span>
      </div>
      <p class="body">{message.body}</p>
      {failed && (
        <div class="failure" role="alert" data-testid="send-error">
          <span>{errorText(message.error?.code ?? 'internal', message.error?.message)}</span>
          {canRetry(message.error?.code ?? 'internal') && (
            <button type="button" onClick={() => onRetry(message.clientMsgId)}>
              Retry
            </button>
          )}
          <button type="button" onClick={() => onEdit(message.clientMsgId)}>
            Edit
          </button>
          <button type="button" onClick={() => onDiscard(message.clientMsgId)}>
            Discard
          </button>
        </div>
      )}
    </li>
  );
}
