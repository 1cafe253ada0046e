import { parseArgs } from 'node:util';
import type { ExportFilter } from '@chat/db';

export const EXPORT_USAGE = 'usage: pnpm chat:export [--out <dir>] [--session <uuid>]... [--from <ISO-8601>] [--to <ISO-8601>]';

export class ExportUsageError extends Error {
  override readonly name = 'ExportUsageError';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A date, or a date and time with an explicit zone: a zone-less time would depend on the machine's.
const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;

function instant(flag: string, value: string): Date {
  const date = new Date(value);
  if (!INSTANT.test(value) || Number.isNaN(date.getTime())) throw new ExportUsageError(`${flag} must be an ISO-8601 date or a date-time with a zone (got "${value}")`);
  return date;
}

/** The export's directory and filter from the command line; throws ExportUsageError on bad input. */
export function parseExportArgs(args: readonly string[], now: Date): { out: string; filter: ExportFilter } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: { out: { type: 'string' }, session: { type: 'string', multiple: true }, from: { type: 'string' }, to: { type: 'string' } },
      strict: true,
    });
  } catch (error) {
    throw new ExportUsageError(error instanceof Error ? error.message : String(error));
  }
  const { out, session, from, to } = parsed.values;
  const bad = (session ?? []).find((id) => !UUID.test(id));
  if (bad !== undefined) throw new ExportUsageError(`--session must be a session UUID (got "${bad}")`);
  const filter: ExportFilter = {
    ...(session === undefined ? {} : { sessionIds: session.map((id) => id.toLowerCase()) }),
    ...(from === undefined ? {} : { from: instant('--from', from) }),
    ...(to === undefined ? {} : { to: instant('--to', to) }),
  };
  if (filter.from !== undefined && filter.to !== undefined && filter.from >= filter.to) throw new ExportUsageError('--from must be before --to');
  return { out: out ?? `exports/export-${now.toISOString().replace(/[:.]/g, '-')}`, filter };
}
