import { ApiClient, ChatClientError } from '@chat/client';
import type { Person } from '@chat/protocol';
import { useMemo, useState } from 'preact/hooks';
import { errorText } from '../error-text.ts';
import { PeoplePicker } from './PeoplePicker.tsx';

export interface SessionPickerProps {
  apiUrl: string;
  token: string;
  userId: string | undefined;
  /** A shared session to offer first, e.g. the development lobby. */
  lobbyId?: string | undefined;
  onOpen: (sessionId: string) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Creates a session (with members picked by name) or opens one by id. */
export function SessionPicker({ apiUrl, token, userId, lobbyId, onOpen }: SessionPickerProps) {
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState<readonly Person[]>([]);
  const [joinId, setJoinId] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const api = useMemo(() => new ApiClient({ apiUrl, token }), [apiUrl, token]);

  const create = () => {
    setBusy(true);
    setError(undefined);
    api
      .createSession({ ...(title.trim() === '' ? {} : { title: title.trim() }), members: members.map((person) => person.id) })
      .then((session) => onOpen(session.id))
      .catch((e: unknown) => setError(e instanceof ChatClientError ? errorText(e.code, e.message) : String(e)))
      .finally(() => setBusy(false));
  };

  return (
    <div class="card">
      <h1>Chat sessions</h1>
      {userId && (
        <p>
          Others find you by your name. Your user id, should someone need to paste it: <code data-testid="my-user-id">{userId}</code>
        </p>
      )}
      {lobbyId && (
        <button type="button" onClick={() => onOpen(lobbyId)}>
          Go to the lobby
        </button>
      )}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          create();
        }}
      >
        <h2>New session</h2>
        <label for="title">Title</label>
        <input id="title" value={title} maxLength={200} onInput={(e) => setTitle(e.currentTarget.value)} />
        <PeoplePicker
          api={api}
          label="Other members"
          picked={members}
          exclude={userId === undefined ? [] : [userId]}
          onPick={(person) => setMembers((now) => [...now, person])}
          onUnpick={(id) => setMembers((now) => now.filter((person) => person.id !== id))}
        />
        <button type="submit" disabled={busy}>
          Create and open
        </button>
      </form>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          if (UUID.test(joinId.trim())) onOpen(joinId.trim());
          else setError('That is not a session id.');
        }}
      >
        <h2>Open a session</h2>
        <label for="join">Session id</label>
        <input id="join" value={joinId} onInput={(e) => setJoinId(e.currentTarget.value)} />
        <button type="submit">Open</button>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
