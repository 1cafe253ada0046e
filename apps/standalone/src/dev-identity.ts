import { createHash } from 'node:crypto';
import { exceedsChars } from '@chat/protocol';

export const MAX_DEV_NAME_CHARS = 40;

/**
 * Characters a display name may not hold: control, format (bidi overrides, zero-width joiners),
 * private-use, unassigned and lone surrogates, and line or paragraph separators. They make a
 * name that looks like someone else's, or one that breaks the lines it is shown on.
 */
const INVISIBLE_OR_CONTROL = /[\p{C}\p{Zl}\p{Zp}]/u;

/** The form a name is kept and compared in: NFKC, runs of spaces made one, trimmed. */
export function normalDevName(raw: string): string {
  return raw.normalize('NFKC').replace(/\s+/gu, ' ').trim();
}

/**
 * The same name always gets the same user id, so a person who signs in again (another tab,
 * after a restart) is the same member of the same sessions. Names that normalise alike, in any
 * case, are one person.
 */
export function devUserId(name: string): string {
  const hex = createHash('sha256').update(`dev-user:${normalDevName(name).toLowerCase()}`).digest('hex');
  // Shaped as a version-4, variant-1 UUID so every validator accepts it.
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A normalised display name, or the reason it is not acceptable. */
export function parseDevName(raw: unknown): { ok: true; name: string } | { ok: false; message: string } {
  if (typeof raw !== 'string') return { ok: false, message: 'name must be a string' };
  // Checked before normalising: NFKC would hide some of them (and a name is refused, not repaired).
  const hidden = INVISIBLE_OR_CONTROL.exec(raw);
  if (hidden) return { ok: false, message: `name must not contain control or invisible characters (found U+${codePointHex(hidden[0])})` };
  const name = normalDevName(raw);
  if (name.length === 0) return { ok: false, message: 'name must not be empty' };
  if (exceedsChars(name, MAX_DEV_NAME_CHARS)) return { ok: false, message: `name must be at most ${MAX_DEV_NAME_CHARS} characters` };
  if (INVISIBLE_OR_CONTROL.test(name)) return { ok: false, message: 'name must not contain control or invisible characters' };
  return { ok: true, name };
}

function codePointHex(char: string): string {
  return (char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}
