import { WebSocket } from 'ws';

export interface ServerFrame {
  type: string;
  [key: string]: unknown;
}

/**
 * A WebSocket peer that can send what a browser cannot: invalid UTF-8 as text, binary frames,
 * fragments split anywhere. It records every server frame and the close, and what it could not parse.
 */
export class FuzzSocket {
  readonly frames: ServerFrame[] = [];
  /** Server messages that were binary or not JSON objects with a string `type`. */
  readonly malformed: string[] = [];
  closed: { code: number; reason: string } | undefined;
  readonly #ws: WebSocket;
  readonly #closedPromise: Promise<{ code: number; reason: string }>;
  #listeners: (() => void)[] = [];

  constructor(url: string) {
    this.#ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024, handshakeTimeout: 10_000 });
    this.#ws.on('error', () => undefined);
    this.#ws.on('message', (data, binary) => this.#receive(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), binary));
    this.#closedPromise = new Promise((resolve) => {
      this.#ws.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString('utf8') };
        this.#notify();
        resolve(this.closed);
      });
    });
  }

  get whenClosed(): Promise<{ code: number; reason: string }> {
    return this.#closedPromise;
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  sendText(text: string | Buffer): Promise<void> {
    return this.#send(text, { binary: false });
  }

  sendBinary(bytes: Uint8Array): Promise<void> {
    return this.#send(Buffer.from(bytes), { binary: true });
  }

  /** One text message in several frames; parts may split a character's bytes. */
  async sendFragments(parts: readonly Buffer[]): Promise<void> {
    for (let i = 0; i < parts.length; i++) await this.#send(parts[i] ?? Buffer.alloc(0), { binary: false, fin: i === parts.length - 1 });
  }

  /** Waits until a frame matches, or the socket closes (undefined), or the time is up (throws). */
  async until(predicate: (frame: ServerFrame) => boolean, timeoutMs = 10_000): Promise<ServerFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      if (this.closed) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame nor close within ${timeoutMs} ms; frames: ${JSON.stringify(this.frames.slice(-5)).slice(0, 500)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#listeners.push(done);
      });
    }
  }

  close(): void {
    if (this.#ws.readyState === WebSocket.CONNECTING || this.#ws.readyState === WebSocket.OPEN) this.#ws.close(1000);
  }

  terminate(): void {
    this.#ws.terminate();
  }

  #send(data: string | Buffer, options: { binary: boolean; fin?: boolean }): Promise<void> {
    if (this.#ws.readyState !== WebSocket.OPEN) return Promise.resolve();
    return new Promise((resolve) => this.#ws.send(data, { ...options, compress: false }, () => resolve()));
  }

  #receive(data: Buffer, binary: boolean): void {
    const text = data.toString('utf8');
    if (binary) this.malformed.push(`binary: ${text.slice(0, 200)}`);
    else {
      try {
        const frame = JSON.parse(text) as unknown;
        if (typeof frame === 'object' && frame !== null && typeof (frame as ServerFrame).type === 'string') this.frames.push(frame as ServerFrame);
        else this.malformed.push(text.slice(0, 200));
      } catch {
        this.malformed.push(text.slice(0, 200));
      }
    }
    this.#notify();
  }

  #notify(): void {
    const listeners = this.#listeners;
    this.#listeners = [];
    for (const listener of listeners) listener();
  }
}

/** Opens a socket and waits for its first frame (welcome or presence) or its close. */
export async function openFuzzSocket(url: string): Promise<FuzzSocket> {
  const socket = new FuzzSocket(url);
  await socket.until(() => true);
  return socket;
}
