import { describe, expect, it } from '@jest/globals';
import { chatUrl, readAppConfig } from './app-config.ts';

const at = (href: string) => new URL(href) as unknown as Location;

describe('readAppConfig', () => {
  it('takes the session and token from the address and defaults both bases to the page origin', () => {
    expect(readAppConfig(at('https://chat.example/chat/?session=s1&token=t1'))).toEqual({
      sessionId: 's1',
      token: 't1',
      apiUrl: 'https://chat.example',
      wsUrl: 'wss://chat.example',
    });
  });

  it('lets api and ws override the bases', () => {
    const config = readAppConfig(at('http://localhost:5173/chat/?api=http://localhost:8081/&ws=ws://localhost:8080'));
    expect(config).toMatchObject({ apiUrl: 'http://localhost:8081', wsUrl: 'ws://localhost:8080', sessionId: undefined });
  });
});

describe('chatUrl', () => {
  it('points at the one-session view beside the current page and keeps base overrides', () => {
    const url = chatUrl(at('http://localhost:8080/ui/?api=http://a:1&other=x'), 'sid', 'tok');
    expect(url).toBe('/ui/chat/?session=sid&token=tok&api=http%3A%2F%2Fa%3A1');
  });

  it('stays in the same folder when already on the chat page', () => {
    expect(chatUrl(at('http://localhost:8080/chat/?session=old'), 'new', 'tok')).toBe('/chat/?session=new&token=tok');
  });
});
