import { describe, it, expect } from '@jest/globals';
import fc from 'fast-check';
import { ExportUsageError, parseExportArgs } from './export-options.ts';

const now = new Date('2026-12-01T10:00:00.000Z');

describe('the chat:export command line', () => {
  it('exports everything to a dated folder when given nothing', () => {
    expect(parseExportArgs([], now)).toEqual({ out: 'exports/export-2026-12-01T10-00-00-000Z', filter: {} });
  });

  it('takes several sessions and a time range', () => {
    const a = '6f1c2b9e-0b7e-4a53-9c1e-1f2a3b4c5d6e';
    const b = '7A1C2B9E-0B7E-4A53-9C1E-1F2A3B4C5D6E';
    expect(parseExportArgs(['--out', 'x', '--session', a, '--session', b, '--from', '2026-11-01', '--to', '2026-11-02T12:00:00+01:00'], now)).toEqual({
      out: 'x',
      filter: { sessionIds: [a, b.toLowerCase()], from: new Date('2026-11-01T00:00:00Z'), to: new Date('2026-11-02T11:00:00Z') },
    });
  });

  it.each([
    [['--session', 'not-a-uuid'], /--session must be a session UUID/],
    [['--from', 'yesterday'], /--from must be an ISO-8601 date/],
    [['--to', '2026-11-02T12:00:00'], /--to must be an ISO-8601 date or a date-time with a zone/],
    [['--from', '2026-11-02', '--to', '2026-11-01'], /--from must be before --to/],
    [['--sessions', 'x'], /Unknown option '--sessions'/],
    [['stray'], /Unexpected argument 'stray'/],
  ])('refuses %j with a message naming the problem', (args, message) => {
    expect(() => parseExportArgs(args, now)).toThrow(ExportUsageError);
    expect(() => parseExportArgs(args, now)).toThrow(message);
  });

  it('accepts any valid instant and refuses any text that is not one, never throwing anything else', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          const { filter } = parseExportArgs(['--from', text], now);
          expect(Number.isNaN(filter.from!.getTime())).toBe(false);
        } catch (error) {
          expect(error).toBeInstanceOf(ExportUsageError);
        }
      }),
    );
    fc.assert(
      fc.property(fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }), (date) => {
        expect(parseExportArgs(['--from', date.toISOString()], now).filter.from).toEqual(date);
      }),
    );
  });
});
