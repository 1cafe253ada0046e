import { describe, expect, it } from '@jest/globals';
import { parseUpgradeRoute } from './upgrade-route.ts';

describe('parseUpgradeRoute', () => {
  it('reads the route, session, token, lastSeq and headers', () => {
    const route = parseUpgradeRoute({ url: '/ws/chat/abc?token=t.k.n&lastSeq=42', headers: { origin: 'https://a.example', authorization: 'Bearer x' } });
    expect(route).toEqual({ kind: 'chat', sessionId: 'abc', token: 't.k.n', lastSeq: 42, origin: 'https://a.example', host: undefined, authorization: 'Bearer x' });
  });

  it('ignores a lastSeq that is not a non-negative integer', () => {
    expect(parseUpgradeRoute({ url: '/ws/status/abc?lastSeq=-1', headers: {} })?.lastSeq).toBeUndefined();
    expect(parseUpgradeRoute({ url: '/ws/chat/abc?lastSeq=1e3', headers: {} })?.lastSeq).toBeUndefined();
  });

  it('reads the feed route, which has no session in its path', () => {
    expect(parseUpgradeRoute({ url: '/ws/feed?token=t.k.n', headers: {} })).toMatchObject({ kind: 'feed', sessionId: '', token: 't.k.n' });
    expect(parseUpgradeRoute({ url: '/ws/feed/', headers: {} })?.kind).toBe('feed');
    expect(parseUpgradeRoute({ url: '/ws/feed/abc', headers: {} })).toBeUndefined();
  });

  it('knows only the chat, status and feed routes', () => {
    expect(parseUpgradeRoute({ url: '/ws/other/abc', headers: {} })).toBeUndefined();
    expect(parseUpgradeRoute({ url: '/ws/chat/', headers: {} })).toBeUndefined();
  });
});
