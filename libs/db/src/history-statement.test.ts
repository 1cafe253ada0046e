import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { historyStatement } from './history-statement.ts';
import { statementName } from './named-statements.ts';

const range = fc.record(
  { limit: fc.integer({ min: 1, max: 500 }), after: fc.nat(), before: fc.nat() },
  { requiredKeys: ['limit'] },
);

describe('historyStatement', () => {
  it('is a named statement whose name stands for one text only, as a prepared statement must', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), range, range, (firstSession, secondSession, first, second) => {
        const a = historyStatement(firstSession, first);
        const b = historyStatement(secondSession, second);
        expect(statementName(a.sql)).toMatch(/^history_/);
        expect(statementName(a.sql) === statementName(b.sql)).toBe(a.sql === b.sql);
        // The text depends on which cursors are given, never on their values or the session.
        const sameShape = (first.after === undefined) === (second.after === undefined) && (first.before === undefined) === (second.before === undefined);
        expect(a.sql === b.sql).toBe(sameShape);
      }),
    );
  });
});
