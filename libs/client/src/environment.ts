/** Signals from the host that tell when a connection attempt is worth making. */
export interface EnvironmentSignals {
  isOnline(): boolean;
  /** Each returns a function that removes the listener. */
  onOnline(listener: () => void): () => void;
  onOffline(listener: () => void): () => void;
  onVisible(listener: () => void): () => void;
}

/** The browser's online/offline and page-visibility events, or undefined outside a browser. */
export function browserEnvironment(): EnvironmentSignals | undefined {
  const target = globalThis.window as Window | undefined;
  const doc = globalThis.document as Document | undefined;
  if (target === undefined || typeof target.addEventListener !== 'function') return undefined;
  const on = (event: 'online' | 'offline', listener: () => void) => {
    target.addEventListener(event, listener);
    return () => target.removeEventListener(event, listener);
  };
  return {
    isOnline: () => (globalThis.navigator as Navigator | undefined)?.onLine ?? true,
    onOnline: (listener) => on('online', listener),
    onOffline: (listener) => on('offline', listener),
    onVisible: (listener) => {
      if (doc === undefined) return () => undefined;
      const handler = () => {
        if (doc.visibilityState === 'visible') listener();
      };
      doc.addEventListener('visibilitychange', handler);
      return () => doc.removeEventListener('visibilitychange', handler);
    },
  };
}
