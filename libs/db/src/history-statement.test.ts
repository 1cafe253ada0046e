import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { historyStatement, historyWithReadsStatement } from './history-statement.ts';
import { statementName } from './named-statements.ts';

const range = fc.record(
  { limit: fc.integer({ min: 1, max: 500 }), after: fc.nat(), before: fc.nat() },
  { requiredKeys: ['limit'] },
);
const build = fc.constantFrom(historyStatement, historyWithReadsStatement);

describe('historyStatement and historyWithReadsStatement', () => {
  it('are named statements whose names stand for one text only, as a prepared statement must', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), range, range, build, build, (firstSession, secondSession, first, second, buildFirst, buildSecond) => {
        const a = buildFirst(firstSession, first);
        const b = buildSecond(secondSession, second);
        expect(statementName(a.sql)).toMatch(/^history_/);
        expect(statementName(a.sql) === statementName(b.sql)).toBe(a.sql === b.sql);
        // The text depends on which cursors are given and whether the reads come along, never on the values or the session.
        const sameShape = (first.after === undefined) === (second.after === undefined) && (first.before === undefined) === (second.before === undefined);
        expect(a.sql === b.sql).toBe(sameShape && buildFirst === buildSecond);
        // Both take the same parameters: the reads need only the session's.
        expect(a.parameters).toEqual(historyStatement(firstSession, first).parameters);
      }),
    );
  });
});
