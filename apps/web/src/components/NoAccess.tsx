import { errorText } from '../error-text.ts';

/** What someone sees who opens a link to a session they may not read. */
export function NoAccess({ reason }: { reason: 'not_member' | 'not_found' }) {
  return (
    <main class="chat no-access">
      <div class="card" role="alert" data-testid="no-access">
        <h1>{reason === 'not_member' ? 'You are not a member of this session' : 'No such session'}</h1>
        <p>{reason === 'not_member' ? 'Ask one of its members to add you; the link works for you once they have.' : errorText('not_found')}</p>
      </div>
    </main>
  );
}
