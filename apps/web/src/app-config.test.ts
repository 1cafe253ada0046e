import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { chatUrl, loadServedConfig, parseServedConfig, readAppConfig } from './app-config.ts';

const at = (href: string) => new URL(href) as unknown as Location;
const served = { apiUrls: ['https://api.example'], wsUrls: ['wss://ws-a.example', 'wss://ws-b.example/'] };

describe('readAppConfig', () => {
  it('takes the session and token from the address and defaults both bases to the page origin', () => {
    expect(readAppConfig(at('https://chat.example/chat/?session=s1&token=t1'))).toEqual({
      sessionId: 's1',
      token: 't1',
      apiUrl: 'https://chat.example',
      wsUrl: 'wss://chat.example',
      ignored: [],
    });
  });

  it('defaults to the first base the served config lists', () => {
    expect(readAppConfig(at('https://chat.example/chat/'), served)).toMatchObject({ apiUrl: 'https://api.example', wsUrl: 'wss://ws-a.example' });
  });

  it('lets api and ws pick a listed base or the own origin', () => {
    expect(readAppConfig(at('https://chat.example/?ws=wss://ws-b.example&api=https://chat.example/'), served)).toMatchObject({
      apiUrl: 'https://chat.example',
      wsUrl: 'wss://ws-b.example',
      ignored: [],
    });
  });

  it('ignores api and ws that name a host nobody listed, and says so', () => {
    const config = readAppConfig(at('https://chat.example/?api=http://evil.example&ws=ws://evil.example'), served);
    expect(config).toMatchObject({ apiUrl: 'https://api.example', wsUrl: 'wss://ws-a.example', ignored: ['api', 'ws'] });
    expect(readAppConfig(at('http://localhost:5173/chat/?api=http://localhost:8081/')).apiUrl).toBe('http://localhost:5173');
  });

  it('never picks a base that is neither the own origin nor listed, whatever the address says', () => {
    fc.assert(
      fc.property(fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string()), fc.oneof(fc.webUrl(), fc.string()), (api, ws) => {
        const page = at(`https://chat.example/chat/?${new URLSearchParams({ api, ws }).toString()}`);
        const config = readAppConfig(page, served);
        expect(['https://chat.example', 'https://api.example']).toContain(config.apiUrl);
        expect(['wss://chat.example', 'wss://ws-a.example', 'wss://ws-b.example']).toContain(config.wsUrl);
      }),
      { numRuns: 500, seed: 6 },
    );
  });

  it('does not take a listed host with credentials, a query or another port', () => {
    for (const api of ['https://user@api.example', 'https://api.example?x=1', 'https://api.example:444', 'https://api.example.evil.example']) {
      expect(readAppConfig(at(`https://chat.example/?api=${encodeURIComponent(api)}`), served).ignored).toEqual(['api']);
    }
  });
});

describe('the served config', () => {
  it('is read from config.json beside the app, whichever of its pages is open', async () => {
    const asked: string[] = [];
    const answer = (url: string) => {
      asked.push(url);
      return Promise.resolve(new Response(JSON.stringify(served)));
    };
    expect(await loadServedConfig(at('https://chat.example/ui/chat/?session=x'), answer)).toEqual(served);
    await loadServedConfig(at('https://chat.example/'), answer);
    expect(asked).toEqual(['/ui/config.json', '/config.json']);
  });

  it('is empty when missing, unreadable or malformed', async () => {
    expect(await loadServedConfig(at('https://chat.example/'), () => Promise.resolve(new Response('nope', { status: 404 })))).toEqual({ apiUrls: [], wsUrls: [] });
    expect(await loadServedConfig(at('https://chat.example/'), () => Promise.reject(new Error('offline')))).toEqual({ apiUrls: [], wsUrls: [] });
    expect(parseServedConfig({ apiUrls: 'https://x', wsUrls: [1, 'wss://y'] })).toEqual({ apiUrls: [], wsUrls: ['wss://y'] });
  });
});

describe('chatUrl', () => {
  it('points at the one-session view beside the current page and keeps base choices', () => {
    const url = chatUrl(at('http://localhost:8080/ui/?api=http://a:1&other=x'), 'sid', 'tok');
    expect(url).toBe('/ui/chat/?session=sid&token=tok&api=http%3A%2F%2Fa%3A1');
  });

  it('stays in the same folder when already on the chat page', () => {
    expect(chatUrl(at('http://localhost:8080/chat/?session=old'), 'new', 'tok')).toBe('/chat/?session=new&token=tok');
  });
});
