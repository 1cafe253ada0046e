/**
 * SQLSTATE classes where the row itself is refused, so writing the same row again fails the same
 * way while other rows go through: 21 cardinality, 22 data exception (a NUL in text), 23 integrity
 * constraint (NOT NULL, CHECK, foreign key), 27 triggered data change, 38/39 external routine,
 * 44 WITH CHECK OPTION, 54 program limit (an index row too large), P0 raised by PL/pgSQL (a trigger).
 * Anything else (no SQLSTATE: the network; 08 connection, 40 rollback, 42 schema, 53 resources,
 * 57 shutdown or timeout, ...) is about the database or the statement, never one row.
 */
const ROW_REFUSAL = /^(2[1237]|3[89]|44|54|P0)[0-9A-Z]{3}$/;

export function sqlState(error: unknown): string | undefined {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True when the database refused the row's content, not when it failed to run the statement. */
export function isRowRefusal(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && ROW_REFUSAL.test(code);
}
