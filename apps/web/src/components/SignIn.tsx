import { useState } from 'preact/hooks';
import { devSignIn, type DevIdentity } from '../dev-sign-in.ts';

/** The development sign-in: a person picks a display name. */
export function SignIn({ apiUrl, onSignedIn }: { apiUrl: string; onSignedIn: (identity: DevIdentity) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="card"
      onSubmit={(event) => {
        event.preventDefault();
        setBusy(true);
        setError(undefined);
        devSignIn(apiUrl, name.trim())
          .then(onSignedIn)
          .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
          .finally(() => setBusy(false));
      }}
    >
      <h1>Join the chat</h1>
      <label for="name">Your name</label>
      <input id="name" required maxLength={40} value={name} onInput={(e) => setName(e.currentTarget.value)} autoComplete="nickname" />
      <button type="submit" disabled={busy || name.trim() === ''}>
        Sign in
      </button>
      <p class="hint">Development sign-in: anyone can pick any name.</p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
