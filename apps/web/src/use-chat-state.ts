import type { ChatClient, ChatState } from '@chat/client';
import { useEffect, useState } from 'preact/hooks';

/** The client's store state, re-rendering on every change. */
export function useChatState(client: ChatClient): ChatState {
  const [state, setState] = useState(() => client.store.getState());
  useEffect(() => {
    setState(client.store.getState());
    return client.store.subscribe(setState);
  }, [client]);
  return state;
}

/** Epoch milliseconds, refreshed every `intervalMs` while `active`. */
export function useNow(active: boolean, intervalMs = 1_000): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs]);
  return now;
}
