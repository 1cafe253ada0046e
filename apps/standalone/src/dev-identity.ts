import { createHash } from 'node:crypto';
import { exceedsChars } from '@chat/protocol';

export const MAX_DEV_NAME_CHARS = 40;

/**
 * The same name always gets the same user id, so a person who signs in again (another tab,
 * after a restart) is the same member of the same sessions.
 */
export function devUserId(name: string): string {
  const hex = createHash('sha256').update(`dev-user:${name.trim().toLowerCase()}`).digest('hex');
  // Shaped as a version-4, variant-1 UUID so every validator accepts it.
  const variant = ((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A display name or a reason it is not acceptable. */
export function parseDevName(raw: unknown): { ok: true; name: string } | { ok: false; message: string } {
  if (typeof raw !== 'string') return { ok: false, message: 'name must be a string' };
  const name = raw.trim();
  if (name.length === 0) return { ok: false, message: 'name must not be empty' };
  if (exceedsChars(name, MAX_DEV_NAME_CHARS)) return { ok: false, message: `name must be at most ${MAX_DEV_NAME_CHARS} characters` };
  return { ok: true, name };
}
