import type { JsonBounds } from './json-bounds.ts';

const encoder = new TextEncoder();

/** Defaults of the limits the contract names; the running values come from config. */
export const DEFAULT_MAX_MESSAGE_CHARS = 4000;
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
export const MAX_METADATA_BYTES = 4 * 1024;
export const MAX_CLIENT_MSG_ID_CHARS = 64;
export const HISTORY_DEFAULT_LIMIT = 50;
export const HISTORY_MAX_LIMIT = 500;
/** A `feed_message` carries at most this many characters (code points) of the body: what the session list shows. */
export const FEED_PREVIEW_CHARS = 140;
/** The feed follows at most this many of the user's sessions, the most recently active first. */
export const MAX_FEED_SESSIONS = 200;

export interface MessageLimits {
  maxMessageChars: number;
  /** Depth and entry bounds of a whole frame; DEFAULT_JSON_BOUNDS when absent. */
  json?: Readonly<JsonBounds>;
}

export function byteLengthOfJson(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).length;
}

/** Characters of a token in an `auth` frame; a signed JWT is far shorter. */
export const MAX_TOKEN_CHARS = 8192;
