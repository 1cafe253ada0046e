import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket as NetSocket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { OutgoingFrame, Socket, SocketListener, UpgradeRequest } from './socket.ts';
import { SharedFrameEncoder } from './wire-frame.ts';

export interface WsServerOptions {
  host: string;
  port: number;
  /** Larger frames close the connection with 1009. */
  maxPayload: number;
  /** Upgrades are accepted only under this prefix; other paths get a plain 404. */
  upgradePrefix: string;
  /** A socket whose peer does not finish a closing handshake (or broke the protocol) is dropped after this. */
  closeGraceMs: number;
  /** HTTP: the request headers, and the whole request, must arrive within these (slow-header clients). */
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  onConnection(socket: Socket, request: UpgradeRequest): void;
  onHttp(req: IncomingMessage, res: ServerResponse): void;
}

/** What the batch needs of a socket's stream. */
export interface Corkable {
  cork(): void;
  uncork(): void;
}

/** Every frame is text; one options object for all of them. */
const TEXT: { binary: false } = { binary: false };

/**
 * The sockets written to in this turn of the event loop, corked until it ends: every frame a
 * socket gets in one turn (a fan-out batch, its ack, a catch-up page) leaves in one write.
 */
export class WriteBatch {
  readonly #corked = new Set<Corkable>();
  #scheduled = false;

  hold(stream: Corkable): void {
    if (this.#corked.has(stream)) return;
    stream.cork();
    this.#corked.add(stream);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes out what one socket holds now (before it is dropped). */
  release(stream: Corkable): void {
    if (this.#corked.delete(stream)) stream.uncork();
  }

  flush(): void {
    this.#scheduled = false;
    const corked = [...this.#corked];
    this.#corked.clear();
    for (const stream of corked) stream.uncork();
  }
}

/** One HTTP server carrying both the WebSocket routes and plain HTTP (health, metrics, fallback). */
export class WsServer {
  readonly #options: WsServerOptions;
  readonly #http: Server;
  readonly #wss: WebSocketServer;
  /**
   * Connections whose first request's headers have not arrived yet, with their guard's timer.
   * Heard or judged, a connection leaves: an open socket keeps neither a timer nor a listener.
   */
  readonly #unheard = new Map<Duplex, NodeJS.Timeout>();
  readonly #batch = new WriteBatch();
  readonly #encoder = new SharedFrameEncoder();
  #accepting = true;

  constructor(options: WsServerOptions) {
    this.#options = options;
    // perMessageDeflate stays off: compressing would cost CPU per recipient for each shared frame.
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload, perMessageDeflate: false, clientTracking: false });
    // Timeouts are checked every connectionsCheckingInterval (30 s by default), hence the shorter one.
    // Node counts the headers timeout from the accept, so a client that connected and was slow to
    // send anything (a busy device, a preconnect) got 408 though its headers then came at once.
    // Node keeps the bound on the whole request; the one on headers is guardHeaders'.
    const httpOptions = {
      headersTimeout: options.requestTimeoutMs,
      requestTimeout: options.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs),
    };
    this.#http = createServer(httpOptions, (req, res) => {
      this.#hear(req.socket);
      try {
        options.onHttp(req, res);
      } catch {
        // One request's failure answers that request; it never reaches the process.
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":{"code":"internal","message":"Something went wrong on our side."}}');
      }
    });
    this.#http.on('connection', (socket: NetSocket) => this.#guardHeaders(socket));
    this.#http.on('upgrade', (req: IncomingMessage, stream: Duplex, head: Buffer) => {
      this.#hear(stream);
      try {
        this.#upgrade(req, stream, head);
      } catch {
        stream.destroy();
      }
    });
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.#options.port, this.#options.host, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
  }

  address(): AddressInfo {
    const address = this.#http.address();
    if (address === null || typeof address === 'string') throw new Error('the server is not listening on a TCP port');
    return address;
  }

  /** New upgrades get 503 from now on; open sockets are untouched. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  close(): Promise<void> {
    this.#accepting = false;
    return new Promise((resolve) => {
      this.#wss.close();
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
  }

  /**
   * Slow headers: a connection that has sent part of a request and not all of its headers within
   * headersTimeoutMs of the accept gets 408 and is closed. One that has sent nothing yet is left to
   * the whole-request bound. The verdict waits for the next read of the sockets (setImmediate runs
   * after it), so headers that arrived while this process was busy are parsed first. No close
   * listener: a socket closed unheard stays in #unheard until its timer fires (headersTimeoutMs).
   */
  #guardHeaders(socket: NetSocket): void {
    const timer = setTimeout(judgeHeaders, this.#options.headersTimeoutMs, this.#unheard, socket);
    timer.unref();
    this.#unheard.set(socket, timer);
  }

  /** The first request's headers arrived: the guard is done. */
  #hear(socket: Duplex): void {
    const timer = this.#unheard.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#unheard.delete(socket);
  }

  #upgrade(req: IncomingMessage, stream: Duplex, head: Buffer): void {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!this.#accepting) return refuseUpgrade(stream, 503, 'Service Unavailable');
    if (!path.startsWith(this.#options.upgradePrefix)) return refuseUpgrade(stream, 404, 'Not Found');
    // The 101 waits in the stream until the connect is answered, then leaves with the welcome (or
    // the close) in one write: a connect costs one write to the kernel instead of two. A refusal
    // of the handshake itself ends the stream, which uncorks it.
    stream.cork();
    this.#wss.handleUpgrade(req, stream, head, (ws) => {
      const request: UpgradeRequest = {
        url: req.url ?? '/',
        headers: req.headers,
        ...(req.socket.remoteAddress === undefined ? {} : { remoteAddress: req.socket.remoteAddress }),
      };
      this.#options.onConnection(new WsSocket(ws, stream, this.#batch, this.#encoder, this.#options.closeGraceMs), request);
    });
  }
}

/** The guard's timer: shared by every socket, so an accept makes no closure for it. */
function judgeHeaders(unheard: Map<Duplex, NodeJS.Timeout>, socket: NetSocket): void {
  setImmediate(() => {
    if (!unheard.delete(socket) || socket.destroyed || socket.bytesRead === 0) return;
    refuseUpgrade(socket, 408, 'Request Timeout');
  });
}

function refuseUpgrade(stream: Duplex, status: number, text: string): void {
  stream.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  stream.destroy();
}

/** Where a `ws` socket keeps its adapter, so that one set of listeners serves every socket. */
const ADAPTER = Symbol('WsSocket');
type AdaptedWebSocket = WebSocket & { [ADAPTER]: WsSocket };

/** Adapts a `ws` socket to the gateway's Socket. */
class WsSocket implements Socket {
  readonly #ws: WebSocket;
  /** The connection under the WebSocket, corked while a turn's frames gather. */
  readonly #stream: Duplex;
  readonly #batch: WriteBatch;
  readonly #encoder: SharedFrameEncoder;
  readonly #closeGraceMs: number;
  #dropTimer: NodeJS.Timeout | undefined;
  #listener: SocketListener | undefined;
  #reading = false;
  #handshakeHeld = true;
  /** Frames that came before the listener read them; made only when one does. */
  #early: { text: string; binary: boolean }[] | undefined;
  #closedWith: number | undefined;

  // Called with `this` bound to the emitting WebSocket: shared functions, not closures per socket.
  // ws reports protocol errors (e.g. a frame over maxPayload) on 'error', then closes with the right
  // code and would wait 30 s for the peer's close frame: a peer that ignores it is dropped sooner.
  static readonly #errorListener = function (this: WebSocket): void {
    const socket = (this as AdaptedWebSocket)[ADAPTER];
    // ws has written its close frame: it must reach the peer even before the connect is answered.
    socket.releaseHandshake();
    socket.#dropLater();
  };

  static readonly #messageListener = function (this: WebSocket, data: RawData, binary: boolean): void {
    (this as AdaptedWebSocket)[ADAPTER].#message(toText(data), binary);
  };

  static readonly #pongListener = function (this: WebSocket): void {
    (this as AdaptedWebSocket)[ADAPTER].#listener?.socketPong();
  };

  static readonly #closeListener = function (this: WebSocket, code: number): void {
    (this as AdaptedWebSocket)[ADAPTER].#closed(code);
  };

  constructor(ws: WebSocket, stream: Duplex, batch: WriteBatch, encoder: SharedFrameEncoder, closeGraceMs: number) {
    this.#ws = ws;
    this.#stream = stream;
    this.#batch = batch;
    this.#encoder = encoder;
    this.#closeGraceMs = closeGraceMs;
    (ws as AdaptedWebSocket)[ADAPTER] = this;
    ws.on('error', WsSocket.#errorListener);
    ws.on('message', WsSocket.#messageListener);
    ws.on('pong', WsSocket.#pongListener);
    ws.on('close', WsSocket.#closeListener);
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  send(frame: OutgoingFrame): void {
    if (this.#ws.readyState !== this.#ws.OPEN) return;
    this.#batch.hold(this.#stream);
    // A buffer is a message shared by every recipient: its frame bytes are built once and written
    // as they are. With compression off ws queues nothing of its own, so the order stays the
    // order of the calls, and ws's bufferedAmount counts these bytes as it counts its own.
    if (typeof frame === 'string') this.#ws.send(frame, TEXT);
    else this.#stream.write(this.#encoder.frameOf(frame));
  }

  close(code: number, reason?: string): void {
    this.#ws.close(code, reason);
    // A close must reach the peer now: its answer is what ends the socket.
    this.releaseHandshake();
    this.#dropLater();
  }

  terminate(): void {
    this.#batch.release(this.#stream);
    this.#ws.terminate();
  }

  ping(): void {
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.ping();
  }

  attach(listener: SocketListener): void {
    this.#listener = listener;
    if (this.#closedWith !== undefined) listener.socketClosed(this.#closedWith);
  }

  releaseHandshake(): void {
    if (!this.#handshakeHeld) return;
    this.#handshakeHeld = false;
    this.#stream.uncork();
  }

  readFrames(): void {
    this.#reading = true;
    const early = this.#early ?? [];
    this.#early = undefined;
    for (const item of early) this.#listener?.socketFrame(item.text, item.binary);
  }

  #dropLater(): void {
    if (this.#dropTimer !== undefined) return;
    this.#dropTimer = setTimeout(() => this.#ws.terminate(), this.#closeGraceMs);
    this.#dropTimer.unref();
  }

  #closed(code: number): void {
    clearTimeout(this.#dropTimer);
    this.#closedWith = code;
    this.#listener?.socketClosed(code);
  }

  #message(text: string, binary: boolean): void {
    if (this.#reading && this.#listener) this.#listener.socketFrame(text, binary);
    else (this.#early ??= []).push({ text, binary });
  }
}

function toText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
