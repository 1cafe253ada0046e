import { ChatClientError, type ApiClient } from '@chat/client';
import type { Person } from '@chat/protocol';
import { useState } from 'preact/hooks';
import { errorText } from '../error-text.ts';
import { shareUrl } from '../share-link.ts';
import { PeoplePicker } from './PeoplePicker.tsx';

export interface SessionToolsProps {
  api: ApiClient;
  sessionId: string;
  /** The session's members as last read, so they are not offered again. */
  members: readonly string[];
  onMembersChanged: (members: readonly string[]) => void;
}

/** Beside a session's chat: copy a link that opens it, and add people to it by name. */
export function SessionTools({ api, sessionId, members, onMembersChanged }: SessionToolsProps) {
  const [link, setLink] = useState<string | undefined>(undefined);
  const [copied, setCopied] = useState('');
  const [adding, setAdding] = useState(false);
  const [picked, setPicked] = useState<readonly Person[]>([]);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState('');

  const copyLink = () => {
    const url = shareUrl(location, sessionId);
    setLink(url);
    // The link stays shown (and selectable) when the page may not write the clipboard (no secure
    // context, or no permission); `clipboard` is then missing or its promise refuses.
    const clipboard = navigator.clipboard as Clipboard | undefined;
    if (clipboard === undefined) return setCopied('Copy the link below.');
    clipboard.writeText(url).then(
      () => setCopied('Link copied. Members who open it see this session.'),
      () => setCopied('Copy the link below.'),
    );
  };

  const add = () => {
    if (picked.length === 0) return;
    setBusy(true);
    setMessage('');
    api
      .addMembers(
        sessionId,
        picked.map((person) => person.id),
      )
      .then((session) => {
        onMembersChanged(session.members);
        setMessage(`Added ${picked.map((person) => person.name).join(', ')}.`);
        setPicked([]);
      })
      .catch((error: unknown) => setMessage(error instanceof ChatClientError ? errorText(error.code, error.message) : String(error)))
      .finally(() => setBusy(false));
  };

  return (
    <section class="session-tools" aria-label="Share this session">
      <div class="session-tools-row">
        <button type="button" onClick={copyLink}>
          Copy link
        </button>
        <button type="button" aria-expanded={adding} onClick={() => setAdding((open) => !open)}>
          Add people
        </button>
        <span role="status" class="muted">
          {copied}
        </span>
      </div>
      {link !== undefined && <input class="share-link" readOnly aria-label="Link to this session" data-testid="share-link" value={link} onFocus={(event) => event.currentTarget.select()} />}
      {adding && (
        <form
          class="add-people"
          onSubmit={(event) => {
            event.preventDefault();
            add();
          }}
        >
          <PeoplePicker
            api={api}
            label="People to add"
            picked={picked}
            exclude={members}
            onPick={(person) => setPicked((now) => [...now, person])}
            onUnpick={(id) => setPicked((now) => now.filter((person) => person.id !== id))}
          />
          <button type="submit" disabled={busy || picked.length === 0}>
            Add to this session
          </button>
        </form>
      )}
      {message && (
        <p role="status" data-testid="add-people-result">
          {message}
        </p>
      )}
    </section>
  );
}
