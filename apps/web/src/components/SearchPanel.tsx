import type { ChatClient } from '@chat/client';
import { SEARCH_MAX_QUERY_CHARS, type SearchHit } from '@chat/protocol';
import { useState } from 'preact/hooks';
import { errorText } from '../error-text.ts';
import { splitHighlights } from '../highlight.ts';
import { displayName, fullTime, shortTime } from '../names.ts';

export interface SearchPanelProps {
  client: ChatClient;
  names: Readonly<Record<string, string>>;
  me: string | undefined;
  /** Shows message `seq` in the conversation. */
  onJump: (seq: number) => void;
}

interface Results {
  query: string;
  hits: readonly SearchHit[];
  nextBefore: number | null;
}

const PAGE = 20;

/** Searches the session's history; each hit shows its matched words and opens the message in context. */
export function SearchPanel({ client, names, me, onJump }: SearchPanelProps) {
  const [text, setText] = useState('');
  const [results, setResults] = useState<Results | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);

  const run = (query: string, before?: number) => {
    setBusy(true);
    setError(undefined);
    client.api.search(client.sessionId, query, { limit: PAGE, ...(before === undefined ? {} : { before }) }).then(
      (page) => {
        setResults((previous) => ({ query, hits: before === undefined || !previous ? page.hits : [...previous.hits, ...page.hits], nextBefore: page.nextBefore }));
        setBusy(false);
      },
      (failure: unknown) => {
        const code = typeof failure === 'object' && failure !== null && 'code' in failure ? String(failure.code) : 'internal';
        setError(errorText(code, failure instanceof Error ? failure.message : undefined));
        setBusy(false);
      },
    );
  };

  const onSubmit = (event: Event) => {
    event.preventDefault();
    const query = text.trim();
    if (query === '') {
      setResults(undefined);
      return;
    }
    run(query);
  };

  return (
    <section class="search" role="search" aria-label="Search this chat">
      <form onSubmit={onSubmit}>
        <input
          type="search"
          aria-label="Search messages"
          placeholder="Search messages"
          maxLength={SEARCH_MAX_QUERY_CHARS}
          value={text}
          onInput={(event) => setText(event.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          Search
        </button>
        {results && (
          <button type="button" class="link" onClick={() => setResults(undefined)}>
            Clear
          </button>
        )}
      </form>
      {error && (
        <p class="search-error" role="alert">
          {error}
        </p>
      )}
      {results && (
        <div class="search-results" data-testid="search-results">
          <p class="muted" role="status">
            {results.hits.length === 0 ? `No messages found for “${results.query}”.` : `Messages with “${results.query}”, newest first:`}
          </p>
          <ol>
            {results.hits.map((hit) => (
              <li key={hit.id}>
                <button type="button" class="search-hit" data-testid="search-hit" data-seq={hit.seq} onClick={() => onJump(hit.seq)}>
                  <span class="meta">
                    <span class="author">{displayName(hit.userId, hit.userName === undefined ? names : { ...names, [hit.userId]: hit.userName }, me)}</span>{' '}
                    <time dateTime={hit.timestamp} title={fullTime(hit.timestamp)}>
                      {shortTime(hit.timestamp)}
                    </time>
                  </span>
                  <span class="body">
                    {splitHighlights(hit.body, hit.highlights).map((piece, i) => (piece.hit ? <mark key={i}>{piece.text}</mark> : piece.text))}
                  </span>
                </button>
              </li>
            ))}
          </ol>
          {results.nextBefore !== null && (
            <button type="button" class="link" disabled={busy} onClick={() => run(results.query, results.nextBefore ?? undefined)}>
              More results
            </button>
          )}
        </div>
      )}
    </section>
  );
}
