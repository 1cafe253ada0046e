import type { AnalysisStatus } from '@chat/protocol';
import type { ChatState } from '@chat/client';
import { errorCodeOfClose } from '@chat/client';
import { errorText } from '../error-text.ts';
import { displayName, listNames } from '../names.ts';
import { useNow } from '../use-chat-state.ts';

export interface StatusBarProps {
  state: ChatState;
  onReconnectNow: () => void;
}

/** Connection state, who is online and who is typing; a banner while the connection is being restored. */
export function StatusBar({ state, onReconnectNow }: StatusBarProps) {
  const { connection, userId, names } = state;
  const now = useNow(connection.status === 'reconnecting', 500);
  const online = state.online.map((id) => displayName(id, names, userId));
  const typing = Object.keys(state.typing)
    .filter((id) => id !== userId)
    .map((id) => displayName(id, names, userId));
  return (
    <header class="status-bar">
      <div class="status-line">
        <span class={`status-dot status-${connection.status}`} aria-hidden="true" />
        <span data-testid="connection-status" role="status">
          {statusWords(state)}
        </span>
        <span class="online" data-testid="online">
          {online.length > 0 ? `Online: ${listNames(online)}` : 'Nobody else online'}
        </span>
      </div>
      {(connection.status === 'reconnecting' || (connection.status === 'connecting' && connection.resuming)) && (
        <div class="banner banner-warning" data-testid="reconnecting-banner" role="alert">
          <span>
            {connection.status === 'reconnecting'
              ? `${capitalize(connection.lastCloseMeaning)}. Reconnecting ${waitWords(connection.nextAttemptAt - now)}${connection.attempt > 1 ? ` (attempt ${connection.attempt})` : ''}.`
              : 'Reconnecting now…'}{' '}
            Messages you send will go out when the connection is back.
          </span>
          {connection.status === 'reconnecting' && (
            <button type="button" onClick={onReconnectNow}>
              Try now
            </button>
          )}
        </div>
      )}
      {connection.status === 'offline' && (
        <div class="banner banner-warning" data-testid="reconnecting-banner" role="alert">
          You are offline. The chat reconnects when the network is back.
        </div>
      )}
      {connection.status === 'disabled' && (
        <div class="banner banner-warning" role="alert" data-testid="chat-disabled-banner">
          Chat is turned off. You can still read the history; it comes back by itself when chat is turned on.
        </div>
      )}
      {connection.status === 'closed' && connection.code !== 1000 && (
        <div class="banner banner-error" role="alert" data-testid="closed-banner">
          {errorText(errorCodeOfClose(connection.code, connection.reason))}
        </div>
      )}
      {state.analysisStatus !== null && (
        <p class={`analysis-status analysis-${state.analysisStatus.state}`} role="status" data-testid="analysis-status">
          {analysisWords(state.analysisStatus)}
        </p>
      )}
      <p class="typing" aria-live="polite" data-testid="typing">
        {typing.length === 0 ? '' : `${listNames(typing)} ${typing.length === 1 ? 'is' : 'are'} typing…`}
      </p>
    </header>
  );
}

function analysisWords(status: AnalysisStatus): string {
  switch (status.state) {
    case 'queued':
      return 'Analysis queued';
    case 'running':
      return status.progress === undefined ? 'Analysis running' : `Analysis running: ${Math.round(status.progress)} %`;
    case 'done':
      return 'Analysis done';
    case 'failed':
      return `Analysis failed: ${status.reason ?? 'no reason given'}`;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function waitWords(ms: number): string {
  return ms > 500 ? `in ${Math.ceil(ms / 1000)} s` : 'now';
}

function statusWords(state: ChatState): string {
  const c = state.connection;
  switch (c.status) {
    case 'idle':
      return 'Connecting…';
    case 'connecting':
      return c.resuming ? 'Reconnecting…' : 'Connecting…';
    case 'open':
      return 'Connected';
    case 'reconnecting':
      return 'Reconnecting…';
    case 'offline':
      return 'Offline';
    case 'closed':
      return `Disconnected: ${c.meaning}`;
    case 'disabled':
      return 'Chat is turned off';
  }
}
