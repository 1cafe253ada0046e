import { Redis, type Command } from 'ioredis';

type WriteableStream = Parameters<Redis['sendCommand']>[1];

/**
 * A plain connection whose commands leave together: each is written at once, into the socket
 * corked at the first command of a turn of the event loop and uncorked when the turn ends, so a
 * turn's commands still go out in one write, as with ioredis's auto-pipelining. That batches by
 * building a Pipeline per batch and routing each command through it (a promise, closures and a
 * reply array more per command): about twice the client CPU per command. Replies come back in
 * the order sent, as on any plain connection.
 */
export class TurnBatchedRedis<ReplyMapping extends 'legacy' | 'resp3' = 'legacy'> extends Redis<ReplyMapping> {
  #corked = false;

  override sendCommand(command: Command, stream?: WriteableStream): unknown {
    this.#corkForTurn();
    return super.sendCommand(command, stream);
  }

  #corkForTurn(): void {
    // Before `ready` the handshake's commands are written at once and the others queue in ioredis.
    if (this.#corked || this.status !== 'ready') return;
    const socket = this.stream;
    this.#corked = true;
    socket.cork();
    // After this turn's I/O callbacks, as ioredis schedules its auto-pipelines; a socket replaced
    // by a reconnect meanwhile is uncorked all the same (it is closed), and the next command corks the new one.
    setImmediate(() => {
      this.#corked = false;
      socket.uncork();
    });
  }
}
