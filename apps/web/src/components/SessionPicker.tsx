import { ApiClient, ChatClientError } from '@chat/client';
import { useState } from 'preact/hooks';
import { errorText } from '../error-text.ts';

export interface SessionPickerProps {
  apiUrl: string;
  token: string;
  userId: string | undefined;
  /** A shared session to offer first, e.g. the development lobby. */
  lobbyId?: string | undefined;
  onOpen: (sessionId: string) => void;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Creates a session (with members by user id) or opens one by id. */
export function SessionPicker({ apiUrl, token, userId, lobbyId, onOpen }: SessionPickerProps) {
  const [title, setTitle] = useState('');
  const [members, setMembers] = useState('');
  const [joinId, setJoinId] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const create = () => {
    const ids = members.split(/[\s,]+/).filter((id) => id !== '');
    const bad = ids.find((id) => !UUID.test(id));
    if (bad !== undefined) return setError(`"${bad}" is not a user id.`);
    setBusy(true);
    setError(undefined);
    new ApiClient({ apiUrl, token })
      .createSession({ ...(title.trim() === '' ? {} : { title: title.trim() }), members: ids })
      .then((session) => onOpen(session.id))
      .catch((e: unknown) => setError(e instanceof ChatClientError ? errorText(e.code, e.message) : String(e)))
      .finally(() => setBusy(false));
  };

  return (
    <div class="card">
      <h1>Chat sessions</h1>
      {userId && (
        <p>
          Your user id: <code data-testid="my-user-id">{userId}</code> (others add you with it)
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
        <label for="members">Other members' user ids (comma separated)</label>
        <input id="members" value={members} onInput={(e) => setMembers(e.currentTarget.value)} />
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
