/** How a user is shown: their display name, "You", or a short form of their id. */
export function displayName(userId: string, names: Readonly<Record<string, string>>, me: string | undefined): string {
  if (userId === me) return 'You';
  return names[userId] ?? `User ${userId.slice(0, 8)}`;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function shortTime(iso: string): string {
  return timeFormat.format(new Date(iso));
}

export function fullTime(iso: string): string {
  return fullFormat.format(new Date(iso));
}

/** Joins names as a sentence: "A", "A and B", "A, B and C". */
export function listNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1) ?? ''}`;
}
