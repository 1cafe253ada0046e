/**
 * Bounds on a parsed JSON value, checked before any recursive work touches it (zod, JSON.stringify,
 * the store). JSON.parse itself is iterative in V8, but JSON.stringify and most walkers recurse and
 * overflow the stack on a value nested a few thousand levels deep, which a 12 KB frame can carry.
 */

export interface JsonBounds {
  /** Deepest nesting of objects and arrays; a top-level object is depth 1. */
  maxDepth: number;
  /** Most object keys plus array elements in the whole value. */
  maxEntries: number;
}

/** What a frame or body may hold unless configured otherwise (`MAX_JSON_DEPTH`, `MAX_JSON_ENTRIES`). */
export const DEFAULT_JSON_BOUNDS: Readonly<JsonBounds> = Object.freeze({ maxDepth: 32, maxEntries: 2048 });

/**
 * The largest bounds a setting may choose, and the guard the schemas apply on their own: at depth 64
 * JSON.stringify is far from the stack limit whatever the caller checked before.
 */
export const MAX_JSON_BOUNDS: Readonly<JsonBounds> = Object.freeze({ maxDepth: 64, maxEntries: 16384 });

export type JsonBoundsReason = 'too_deep' | 'too_many_entries' | 'unstorable_text';

export interface JsonBoundsViolation {
  reason: JsonBoundsReason;
  /** Where in the value, as keys and indexes from the top. */
  path: (string | number)[];
  message: string;
}

// NUL is refused by PostgreSQL TEXT and JSONB; a lone surrogate is refused by JSONB and silently
// replaced by U+FFFD in TEXT. Without the `u` flag the pattern sees UTF-16 code units.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** True when PostgreSQL can keep the text exactly: no U+0000 and no unpaired surrogate. */
export function isStorableText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

export const UNSTORABLE_TEXT_MESSAGE = 'text contains U+0000 or an unpaired surrogate, which cannot be stored';

interface Pending {
  value: unknown;
  /** Nesting depth of the container holding this value; 0 at the top. */
  depth: number;
  key: string | number | undefined;
  parent: Pending | undefined;
}

/**
 * Walks the value with an explicit stack (never recursion) and returns the first bound it breaks:
 * nesting depth, total keys and elements, or a string or key the store cannot keep. Stops as soon
 * as a bound is passed, so the work is at most `maxEntries` steps whatever the input.
 */
export function findJsonBoundsViolation(value: unknown, bounds: Readonly<JsonBounds> = DEFAULT_JSON_BOUNDS): JsonBoundsViolation | undefined {
  let entries = 0;
  const stack: Pending[] = [{ value, depth: 0, key: undefined, parent: undefined }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const current = item.value;
    if (typeof current === 'string') {
      if (!isStorableText(current)) return violation('unstorable_text', item);
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    const depth = item.depth + 1;
    if (depth > bounds.maxDepth) return violation('too_deep', item, bounds);
    if (Array.isArray(current)) {
      entries += current.length;
      if (entries > bounds.maxEntries) return violation('too_many_entries', item, bounds);
      for (let index = current.length - 1; index >= 0; index--) stack.push({ value: current[index] as unknown, depth, key: index, parent: item });
      continue;
    }
    const keys = Object.keys(current);
    entries += keys.length;
    if (entries > bounds.maxEntries) return violation('too_many_entries', item, bounds);
    for (let index = keys.length - 1; index >= 0; index--) {
      const key = keys[index] as string;
      const child: Pending = { value: (current as Record<string, unknown>)[key], depth, key, parent: item };
      if (!isStorableText(key)) return violation('unstorable_text', child);
      stack.push(child);
    }
  }
  return undefined;
}

/** The violation's message prefixed with where it is, e.g. `metadata.a.0: ...`. */
export function describeViolation(found: JsonBoundsViolation): string {
  return found.path.length === 0 ? found.message : `${found.path.join('.')}: ${found.message}`;
}

function violation(reason: JsonBoundsReason, at: Pending, bounds?: Readonly<JsonBounds>): JsonBoundsViolation {
  return { reason, path: pathOf(at), message: messageFor(reason, bounds) };
}

function messageFor(reason: JsonBoundsReason, bounds: Readonly<JsonBounds> | undefined): string {
  switch (reason) {
    case 'too_deep':
      return `JSON is nested deeper than ${bounds?.maxDepth ?? '?'} levels`;
    case 'too_many_entries':
      return `JSON has more than ${bounds?.maxEntries ?? '?'} keys and elements`;
    case 'unstorable_text':
      return UNSTORABLE_TEXT_MESSAGE;
  }
}

function pathOf(at: Pending): (string | number)[] {
  const path: (string | number)[] = [];
  for (let node: Pending | undefined = at; node?.key !== undefined; node = node.parent) path.push(node.key);
  return path.reverse();
}
