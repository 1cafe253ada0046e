import { describe, expect, it } from '@jest/globals';
import { ERROR_CODES } from '@chat/protocol';
import { canRetry, errorText } from './error-text.ts';

describe('errorText', () => {
  it.each([
    ['rate_limited', /too fast/],
    ['too_large', /too long/],
    ['not_found', /closed/],
    ['forbidden', /not a member/],
    ['unauthorized', /sign-in/],
  ])('says in plain words what %s means', (code, words) => {
    expect(errorText(code)).toMatch(words);
  });

  it('has its own words for every code in the registry rather than the fallback', () => {
    for (const code of Object.keys(ERROR_CODES).filter((c) => c !== 'internal' && c !== 'route_not_found' && c !== 'conflict')) {
      expect(errorText(code, 'SERVER TEXT')).not.toBe('SERVER TEXT');
    }
  });

  it('offers a retry only when sending again can succeed', () => {
    expect(canRetry('rate_limited')).toBe(true);
    expect(canRetry('too_large')).toBe(false);
    expect(canRetry('forbidden')).toBe(false);
  });
});
