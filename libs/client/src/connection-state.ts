/** What a UI shows about a connection. `nextAttemptAt` is epoch milliseconds. */
export type ConnectionState =
  | { status: 'idle' }
  | { status: 'connecting'; attempt: number }
  | { status: 'open' }
  | { status: 'reconnecting'; attempt: number; nextAttemptAt: number; lastCloseCode: number; lastCloseMeaning: string }
  | { status: 'offline' }
  | { status: 'closed'; code: number; meaning: string };

export type ConnectionStatus = ConnectionState['status'];
