import { describe, expect, it } from '@jest/globals';
import { ERROR_CODES } from '@chat/protocol';
import { errorCodeOfClose, errorOfClose } from './errors.ts';

describe('errorCodeOfClose', () => {
  it('tells an origin refusal from a membership refusal by the close reason', () => {
    expect(errorCodeOfClose(4403, ERROR_CODES.origin_refused.message)).toBe('origin_refused');
    expect(errorCodeOfClose(4403, ERROR_CODES.forbidden.message)).toBe('forbidden');
    expect(errorCodeOfClose(4403)).toBe('forbidden');
    expect(errorOfClose(4403, ERROR_CODES.origin_refused.message).message).toMatch(/address/);
    expect(errorOfClose(4403, ERROR_CODES.forbidden.message).message).toMatch(/not a member/);
  });

  it('names the registry code of every other close, whatever the reason', () => {
    expect(errorCodeOfClose(4401, 'anything')).toBe('unauthorized');
    expect(errorCodeOfClose(4429)).toBe('rate_limited');
    expect(errorCodeOfClose(1006)).toBe('closed');
  });
});
