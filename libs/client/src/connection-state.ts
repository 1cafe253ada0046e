/** What a UI shows about a connection. `nextAttemptAt` is epoch milliseconds. */
export type ConnectionState =
  | { status: 'idle' }
  /** `resuming`: a connection existed before and is being restored, so a UI keeps its reconnecting banner. */
  | { status: 'connecting'; attempt: number; resuming: boolean }
  | { status: 'open' }
  | { status: 'reconnecting'; attempt: number; nextAttemptAt: number; lastCloseCode: number; lastCloseMeaning: string }
  | { status: 'offline' }
  /** `reason`: the server's close reason, which tells apart refusals that share a code. */
  | { status: 'closed'; code: number; reason: string; meaning: string }
  /** Chat was turned off (close 4503): no reconnect until GET /status says on, checked every so often. */
  | { status: 'disabled'; nextCheckAt: number };

export type ConnectionStatus = ConnectionState['status'];
