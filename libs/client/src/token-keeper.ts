/** Gives a fresh token for the same user, e.g. from the app's own sign-in backend. */
export type TokenProvider = () => Promise<string>;

export interface TokenKeeperOptions {
  token: string;
  provider?: TokenProvider;
  /** How long before the token's `exp` a fresh one is fetched and sent; 0 or less waits for the 4401. */
  renewBeforeMs: number;
  /** Called with each fresh token: the app's sockets send it in an `auth` frame, REST uses it. */
  onRenewed: (token: string) => void;
  now?: () => number;
}

/** A failed fetch before expiry is tried again this often, while there is time left. */
const RETRY_MS = 5_000;

/**
 * Holds the current token and, with a provider, renews it before it expires. The expiry is read
 * from the JWT's `exp` without checking the signature: the client only needs to know when.
 */
export class TokenKeeper {
  readonly #options: TokenKeeperOptions;
  readonly #now: () => number;
  #token: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #renewing: Promise<boolean> | undefined;
  #running = false;

  constructor(options: TokenKeeperOptions) {
    this.#options = options;
    this.#token = options.token;
    this.#now = options.now ?? Date.now;
  }

  get token(): string {
    return this.#token;
  }

  start(): void {
    this.#running = true;
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Fetches a fresh token (one fetch at a time); true once it is in place. */
  renewNow(): Promise<boolean> {
    const provider = this.#options.provider;
    if (provider === undefined) return Promise.resolve(false);
    this.#renewing ??= provider()
      .then((token) => {
        if (typeof token !== 'string' || token === '') return false;
        this.#token = token;
        this.#options.onRenewed(token);
        return true;
      })
      .catch(() => false)
      .finally(() => {
        this.#renewing = undefined;
        this.#schedule();
      });
    return this.#renewing;
  }

  #schedule(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#running || this.#options.provider === undefined || this.#options.renewBeforeMs <= 0) return;
    const expiresAt = expiryOf(this.#token);
    if (expiresAt === undefined || expiresAt <= this.#now()) return;
    const wait = Math.max(0, expiresAt - this.#options.renewBeforeMs - this.#now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.renewNow().then((renewed) => {
        // Still the old token: try again while it lasts; the 4401 path takes over after that.
        if (!renewed && this.#running && expiresAt - this.#now() > RETRY_MS) this.#timer = setTimeout(() => void this.renewNow(), RETRY_MS);
      });
    }, Math.min(wait, 2 ** 31 - 1));
  }
}

/** The `exp` of a JWT in ms since the epoch, or undefined when the token is not a readable JWT. */
export function expiryOf(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(decodeBase64Url(payload));
    const exp = typeof claims === 'object' && claims !== null ? (claims as { exp?: unknown }).exp : undefined;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function decodeBase64Url(text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  const binary = atob(base64);
  return new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0)));
}
