import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { statementName } from './named-statements.ts';

describe('statementName', () => {
  it('reads the name of a statement that starts with the marker', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9_]{0,30}$/), fc.string(), (name, rest) => {
        expect(statementName(`/* named:${name} */${rest}`)).toBe(name);
      }),
    );
  });

  it('leaves every other statement unnamed, a marker not at the start included', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (text, before) => {
        fc.pre(!text.startsWith('/* named:'));
        expect(statementName(text)).toBeUndefined();
        expect(statementName(`${before}/* named:x */ select 1`)).toBeUndefined();
      }),
    );
  });
});
