export type ChatSwitchState = 'on' | 'off';

/** Where the switch is kept: one value shared by every replica. */
export interface ChatSwitchStore {
  read(): Promise<ChatSwitchState>;
  write(state: ChatSwitchState): Promise<void>;
  close(): Promise<void>;
}

/** The embedded mode's switch: every part in the process shares this one object. */
export class MemorySwitchStore implements ChatSwitchStore {
  #state: ChatSwitchState = 'on';

  read(): Promise<ChatSwitchState> {
    return Promise.resolve(this.#state);
  }

  write(state: ChatSwitchState): Promise<void> {
    this.#state = state;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class ChatSwitchHeldError extends Error {
  override readonly name = 'ChatSwitchHeldError';
  constructor(options?: { cause?: unknown }) {
    super('CHAT_DISABLED is set: chat stays off until the variable is removed and the process restarted', options);
  }
}

export interface ChatSwitchOptions {
  store: ChatSwitchStore;
  /** CHAT_DISABLED: off whatever the store says. */
  hardOff?: boolean;
  /** How often the store is read (CHAT_SWITCH_POLL_MS). */
  pollMs?: number;
  onError?: (error: unknown) => void;
}

/**
 * One process's view of the kill switch: the last value read from the store, refreshed every
 * `pollMs`, so each request checks a field and every replica follows within one interval. A
 * store that cannot be read keeps the last known value: an outage neither opens nor closes chat.
 */
export class ChatSwitch {
  readonly #options: ChatSwitchOptions;
  readonly #listeners = new Set<(state: ChatSwitchState) => void>();
  #stored: ChatSwitchState = 'on';
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ChatSwitchOptions) {
    this.#options = options;
  }

  get state(): ChatSwitchState {
    return this.#options.hardOff === true ? 'off' : this.#stored;
  }

  get heldBy(): 'switch' | 'environment' {
    return this.#options.hardOff === true ? 'environment' : 'switch';
  }

  get isOn(): boolean {
    return this.state === 'on';
  }

  /** Reads the store once now, then every pollMs until stop(). */
  async start(): Promise<void> {
    await this.refresh();
    this.#timer = setInterval(() => void this.refresh(), this.#options.pollMs ?? 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Calls the listener with the new state each time it changes. */
  onChange(listener: (state: ChatSwitchState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async refresh(): Promise<ChatSwitchState> {
    try {
      this.#apply(await this.#options.store.read());
    } catch (error) {
      this.#options.onError?.(error);
    }
    return this.state;
  }

  /** Turns chat on or off for every replica; refused while CHAT_DISABLED holds it off. */
  async set(state: ChatSwitchState): Promise<void> {
    if (state === 'on' && this.#options.hardOff === true) throw new ChatSwitchHeldError();
    await this.#options.store.write(state);
    this.#apply(state);
  }

  #apply(stored: ChatSwitchState): void {
    const before = this.state;
    this.#stored = stored;
    if (this.state !== before) for (const listener of this.#listeners) listener(this.state);
  }
}
