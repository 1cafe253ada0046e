import './no-eval.ts';
import { ApiClient, ChatClient, FeedClient, type ChatClientEvents } from '@chat/client';
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { chatUrl, loadServedConfig, readAppConfig, type AppConfig } from './app-config.ts';
import { ChatContainer } from './components/ChatContainer.tsx';
import { NoAccess } from './components/NoAccess.tsx';
import { SessionList } from './components/SessionList.tsx';
import { SessionPicker } from './components/SessionPicker.tsx';
import { SessionTools } from './components/SessionTools.tsx';
import { SignIn } from './components/SignIn.tsx';
import { devSignInAvailable } from './dev-sign-in.ts';
import { listen } from './listen.ts';
import { useSessionAccess } from './session-access.ts';
import { tokenClaims } from './token-claims.ts';
import './styles.css';

/** The workspace: the caller's sessions beside the open one; switching changes the address, not the page. */
function Workspace({ config, sessionId: first, token }: { config: AppConfig; sessionId: string; token: string }) {
  const [sessionId, setSessionId] = useState(first);
  const [pulse, setPulse] = useState(0);
  const api = useMemo(() => new ApiClient({ apiUrl: config.apiUrl, token }), [config.apiUrl, token]);
  // One feed per page, for every session's badge; the chat below has its own sockets.
  const feed = useMemo(() => new FeedClient({ token, wsUrl: config.wsUrl, apiUrl: config.apiUrl }), [config.wsUrl, config.apiUrl, token]);
  useEffect(() => {
    feed.connect();
    return () => feed.close();
  }, [feed]);
  useEffect(() => {
    const onPop = () => setSessionId(readAppConfig(location).sessionId ?? first);
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, [first]);
  const open = (id: string) => {
    if (id === sessionId) return;
    history.pushState(null, '', chatUrl(location, id, token));
    setSessionId(id);
  };
  return (
    <div class="workspace">
      <SessionList api={api} feed={feed} current={sessionId} onOpen={open} pulse={pulse} />
      <ChatPage key={sessionId} config={config} sessionId={sessionId} token={token} onActivity={() => setPulse((n) => n + 1)} tools />
    </div>
  );
}

function ChatPage({ config, sessionId, token, onActivity, tools = false }: { config: AppConfig; sessionId: string; token: string; onActivity?: () => void; tools?: boolean }) {
  const { apiUrl, wsUrl } = config;
  const client = useMemo(() => new ChatClient({ sessionId, token, apiUrl, wsUrl }), [apiUrl, wsUrl, sessionId, token]);
  const [access, setSession] = useSessionAccess(client.api, sessionId);
  useEffect(() => {
    if (!onActivity) return undefined;
    return listen<ChatClientEvents>(client, { message: onActivity, read: onActivity });
  }, [client, onActivity]);
  // A link to a session that is not the caller's says so, rather than leaving an empty chat.
  if (access.state === 'not_member' || access.state === 'not_found') return <NoAccess reason={access.state} />;
  const session = access.state === 'member' ? access.session : undefined;
  return (
    <div class="chat-page">
      {tools && session && <SessionTools api={client.api} sessionId={sessionId} members={session.members} onMembersChanged={(members) => setSession({ ...session, members: [...members] })} />}
      <ChatContainer client={client} title={session?.title ?? undefined} />
    </div>
  );
}

/** Without a session in the address: sign in (development only) and pick or create a session. */
function Lobby({ config }: { config: AppConfig }) {
  const [identity, setIdentity] = useState<{ token: string; userId?: string | undefined; sessionId?: string } | undefined>(() =>
    config.token ? { token: config.token, userId: tokenClaims(config.token).sub } : undefined,
  );
  const [canSignIn, setCanSignIn] = useState<boolean | undefined>(undefined);
  useEffect(() => {
    if (!identity) void devSignInAvailable(config.apiUrl).then(setCanSignIn);
  }, [config.apiUrl, identity]);

  const linked = config.sessionId;
  useEffect(() => {
    // A shared link opened before signing in: once signed in, it opens the session it names.
    if (identity && linked !== undefined) location.assign(chatUrl(location, linked, identity.token));
  }, [identity, linked]);

  if (identity && linked !== undefined) return <p class="card">Opening the session…</p>;
  if (identity) {
    const open = (sessionId: string) => location.assign(chatUrl(location, sessionId, identity.token));
    return <SessionPicker apiUrl={config.apiUrl} token={identity.token} userId={identity.userId} lobbyId={identity.sessionId} onOpen={open} />;
  }
  if (canSignIn === undefined) return <p class="card">Loading…</p>;
  if (canSignIn) return <SignIn apiUrl={config.apiUrl} onSignedIn={setIdentity} />;
  return (
    <div class="card" role="alert">
      <h1>Sign-in needed</h1>
      <p>
        Open this page with a token: <code>/chat/?session=&lt;id&gt;&amp;token=&lt;jwt&gt;</code>.
      </p>
    </div>
  );
}

function App({ config }: { config: AppConfig }) {
  if (config.sessionId && config.token) {
    // `embed=1`: the one-session view alone, for an iframe inside another application.
    if (new URLSearchParams(location.search).get('embed') === '1') return <ChatPage config={config} sessionId={config.sessionId} token={config.token} />;
    return <Workspace config={config} sessionId={config.sessionId} token={config.token} />;
  }
  return <Lobby config={config} />;
}

const root = document.getElementById('app');
if (root) {
  void loadServedConfig(location).then((served) => {
    const config = readAppConfig(location, served);
    // The token never follows an address parameter to a host the served config does not list.
    if (config.ignored.length > 0) console.warn(`Ignored ${config.ignored.join(' and ')} in the address: not a host this site lists.`);
    render(<App config={config} />, root);
  });
}
