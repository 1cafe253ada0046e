import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { z } from 'zod';
import { devUserId, MAX_DEV_NAME_CHARS, parseDevName } from './dev-identity.ts';

const HIDDEN = /[\p{C}\p{Zl}\p{Zp}]/u;
/** Control, format (bidi, zero-width), separator and private-use characters a lookalike name could hide. */
const hiddenChar = fc.constantFrom('\u0000', '\u0007', '\t', '\n', '\u001b', '\u007f', '\u0085', '\u200b', '\u200c', '\u200d', '\u200e', '\u202e', '\u2066', '\u2028', '\u2029', '\ufeff', '\u00ad', '\ue000');
const anyText = fc.string({ unit: 'binary', maxLength: 60 });

describe('devUserId', () => {
  it('gives the same valid UUID for the same name, whatever its case and spacing', () => {
    const id = devUserId('Ada');
    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(devUserId(' ada ')).toBe(id);
  });

  it('gives different users different ids', () => {
    expect(devUserId('Ada')).not.toBe(devUserId('Grace'));
  });

  it('gives names that normalise alike (full-width, ligatures, odd spaces) one id', () => {
    expect(devUserId('Ｂｏｂ')).toBe(devUserId('Bob'));
    expect(devUserId('ﬁnn')).toBe(devUserId('finn'));
    expect(devUserId('Mary\u00a0 Ann')).toBe(devUserId('mary ann'));
  });
});

describe('parseDevName', () => {
  it('accepts a trimmed name', () => {
    expect(parseDevName('  Ada ')).toEqual({ ok: true, name: 'Ada' });
  });

  it('refuses empty, over-long and non-string names', () => {
    expect(parseDevName('   ')).toMatchObject({ ok: false });
    expect(parseDevName('x'.repeat(MAX_DEV_NAME_CHARS + 1))).toMatchObject({ ok: false });
    expect(parseDevName('😀'.repeat(MAX_DEV_NAME_CHARS))).toMatchObject({ ok: true });
    expect(parseDevName(42)).toMatchObject({ ok: false });
  });

  it('refuses a second "Bob" made with an invisible or bidi character, naming the character', () => {
    expect(parseDevName('Bob\u200b')).toEqual({ ok: false, message: 'name must not contain control or invisible characters (found U+200B)' });
    expect(parseDevName('\u202eboB')).toMatchObject({ ok: false });
  });

  it('keeps only names in normal form: NFKC, trimmed, no hidden character, 1 to 40 characters, and stable when parsed again', () => {
    fc.assert(
      fc.property(anyText, (raw) => {
        const parsed = parseDevName(raw);
        if (!parsed.ok) return;
        const { name } = parsed;
        expect(name.normalize('NFKC')).toBe(name);
        expect(name.trim()).toBe(name);
        expect(name).not.toMatch(HIDDEN);
        expect(name).not.toMatch(/\s\s/);
        const codePoints = Array.from(name).length;
        expect(codePoints).toBeGreaterThanOrEqual(1);
        expect(codePoints).toBeLessThanOrEqual(MAX_DEV_NAME_CHARS);
        expect(parseDevName(name)).toEqual(parsed);
      }),
      { numRuns: 2000, seed: 11 },
    );
  });

  it('refuses every name with a hidden character anywhere in it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), hiddenChar, fc.string({ maxLength: 20 }), (before, hidden, after) => {
        expect(parseDevName(`${before}${hidden}${after}`)).toMatchObject({ ok: false });
      }),
      { numRuns: 1000, seed: 15 },
    );
  });

  it('gives a name and its accepted form the same user', () => {
    fc.assert(
      fc.property(anyText, (raw) => {
        const parsed = parseDevName(raw);
        if (parsed.ok) expect(devUserId(raw)).toBe(devUserId(parsed.name));
      }),
      { numRuns: 1000, seed: 9 },
    );
  });
});
