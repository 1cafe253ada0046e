/** A WebSocket client for tests, on the runtime's standard WebSocket: records frames and the close. */
export interface Frame {
  type: string;
  [key: string]: unknown;
}

export interface Closed {
  code: number;
  reason: string;
}

interface Waiter {
  predicate: (frame: Frame) => boolean;
  resolve: (frame: Frame) => void;
}

export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<Closed>;
  readonly #ws: WebSocket;
  readonly #opened: Promise<void>;
  #waiters: Waiter[] = [];
  readonly #taken = new Set<number>();

  constructor(url: string, options: { headers?: Record<string, string> } = {}) {
    // Node's WebSocket accepts headers (a non-browser extension), for Origin and Authorization.
    this.#ws = new WebSocket(url, options.headers === undefined ? undefined : ({ headers: options.headers } as unknown as string[]));
    this.#opened = new Promise((resolve, reject) => {
      this.#ws.addEventListener('open', () => resolve(), { once: true });
      this.#ws.addEventListener('error', () => reject(new Error(`could not open ${url}`)), { once: true });
    });
    this.#opened.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      this.#ws.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason }), { once: true });
    });
    this.#ws.addEventListener('message', (event: MessageEvent) => this.#receive(String(event.data)));
  }

  opened(): Promise<void> {
    return this.#opened;
  }

  send(frame: unknown): void {
    this.#ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  close(code = 1000): void {
    this.#ws.close(code);
  }

  /** The earliest frame not taken yet that matches, waiting for it if need be; others stay available. */
  next(predicate: (frame: Frame) => boolean = () => true, timeoutMs = 5_000): Promise<Frame> {
    for (let i = 0; i < this.frames.length; i++) {
      const frame = this.frames[i];
      if (frame && !this.#taken.has(i) && predicate(frame)) {
        this.#taken.add(i);
        return Promise.resolve(frame);
      }
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((waiter) => waiter.resolve !== done);
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      const done = (frame: Frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.#waiters.push({ predicate, resolve: done });
    });
  }

  nextOfType(type: string, timeoutMs?: number): Promise<Frame> {
    return this.next((frame) => frame.type === type, timeoutMs);
  }

  /** Collects `count` frames of a type, in arrival order. */
  async take(type: string, count: number, timeoutMs?: number): Promise<Frame[]> {
    const taken: Frame[] = [];
    while (taken.length < count) taken.push(await this.nextOfType(type, timeoutMs));
    return taken;
  }

  ofType(type: string): Frame[] {
    return this.frames.filter((frame) => frame.type === type);
  }

  #receive(text: string): void {
    const frame = JSON.parse(text) as Frame;
    this.frames.push(frame);
    const waiter = this.#waiters.find((candidate) => candidate.predicate(frame));
    if (waiter) {
      this.#waiters = this.#waiters.filter((candidate) => candidate !== waiter);
      this.#taken.add(this.frames.length - 1);
      waiter.resolve(frame);
    }
  }
}
