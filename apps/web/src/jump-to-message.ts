import type { ChatClient } from '@chat/client';
import { HISTORY_MAX_LIMIT } from '@chat/protocol';
import { useCallback, useState } from 'preact/hooks';

/** Messages loaded before the one jumped to, so it is seen in its context. */
const CONTEXT = 10;

/** Pages of history at most, so a jump into a very long session still ends. */
const MAX_PAGES = 200;

function settled(client: ChatClient): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribe = client.store.subscribe((state) => {
      if (!state.loadingOlder) {
        unsubscribe();
        resolve();
      }
    });
    if (!client.store.getState().loadingOlder) {
      unsubscribe();
      resolve();
    }
  });
}

/**
 * Loads older history until message `seq` (and a few before it) is held, so the list stays one
 * unbroken run from there to the live end: the message is then shown among its neighbours.
 */
export async function loadThrough(client: ChatClient, seq: number): Promise<void> {
  for (let page = 0; page < MAX_PAGES; page++) {
    await settled(client);
    const oldest = client.store.minSeq();
    if (!client.store.getState().hasOlder || (oldest !== undefined && oldest <= Math.max(1, seq - CONTEXT))) return;
    const wanted = oldest === undefined ? HISTORY_MAX_LIMIT : Math.min(HISTORY_MAX_LIMIT, oldest - seq + CONTEXT);
    await client.loadOlder(wanted);
  }
}

export interface Jump {
  seq: number;
  /** Tells a second jump to the same message from the first, so it scrolls again. */
  count: number;
}

/** The message last jumped to, and a function that loads history through a message and jumps to it. */
export function useJumpToMessage(client: ChatClient): [Jump | undefined, (seq: number) => void] {
  const [jump, setJump] = useState<Jump | undefined>(undefined);
  const jumpTo = useCallback(
    (seq: number) => {
      void loadThrough(client, seq).then(
        () => setJump((previous) => ({ seq, count: (previous?.count ?? 0) + 1 })),
        () => undefined,
      );
    },
    [client],
  );
  return [jump, jumpTo];
}
