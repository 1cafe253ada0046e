import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { devUserId, parseDevName } from './dev-identity.ts';

describe('devUserId', () => {
  it('gives the same valid UUID for the same name, whatever its case and spacing', () => {
    const id = devUserId('Ada');
    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(devUserId(' ada ')).toBe(id);
  });

  it('gives different users different ids', () => {
    expect(devUserId('Ada')).not.toBe(devUserId('Grace'));
  });
});

describe('parseDevName', () => {
  it('accepts a trimmed name', () => {
    expect(parseDevName('  Ada ')).toEqual({ ok: true, name: 'Ada' });
  });

  it('refuses empty, over-long and non-string names', () => {
    expect(parseDevName('   ')).toMatchObject({ ok: false });
    expect(parseDevName('x'.repeat(41))).toMatchObject({ ok: false });
    expect(parseDevName(42)).toMatchObject({ ok: false });
  });
});
