import type { SearchHit } from '@chat/protocol';

export interface MessageSearchQuery {
  sessionId: string;
  /** The text as the user typed it; the store parses it (web-search syntax) and never fails on it. */
  text: string;
  limit: number;
  /** Only messages with a lower seq. */
  before?: number;
}

export interface MessageSearchPage {
  /** Newest first. */
  hits: SearchHit[];
  /** Where the next page starts (its `before`), or null when this was the last. */
  nextBefore: number | null;
}
