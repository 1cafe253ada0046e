/** The part of an SDK emitter (ChatClient, FeedClient) that adds and removes listeners. */
interface Emitter<Events> {
  on(event: keyof Events, listener: (...args: unknown[]) => void): unknown;
  off(event: keyof Events, listener: (...args: unknown[]) => void): unknown;
}

/** A listener for any of the events, each typed by what its event carries. */
type Listeners<Events> = { [K in keyof Events]?: Events[K] extends unknown[] ? (...args: Events[K]) => void : never };

/**
 * Adds every listener and returns what removes the same ones, so an effect's setup and its cleanup
 * come from one list. `Events` is the client's event map (ChatClientEvents, FeedClientEvents).
 */
export function listen<Events>(emitter: Emitter<Events>, listeners: Listeners<Events>): () => void {
  const entries = Object.entries(listeners) as [keyof Events, (...args: unknown[]) => void][];
  for (const [event, listener] of entries) emitter.on(event, listener);
  return () => {
    for (const [event, listener] of entries) emitter.off(event, listener);
  };
}
