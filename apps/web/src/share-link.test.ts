import { describe, expect, it } from '@jest/globals';
import { readAppConfig } from './app-config.ts';
import { shareUrl } from './share-link.ts';

const at = (href: string) => new URL(href) as unknown as Location;
const SESSION = '3f2b8c1e-9d4a-4c5b-8e7f-0a1b2c3d4e5f';

describe('shareUrl', () => {
  it('opens the session in the workspace from the lobby or from a session, and never carries the token', () => {
    for (const page of ['https://chat.example/', 'https://chat.example/chat/?session=other&token=secret-token']) {
      const link = shareUrl(at(page), SESSION);
      expect(link).toBe(`https://chat.example/chat/?session=${SESSION}`);
      expect(readAppConfig(at(link))).toMatchObject({ sessionId: SESSION, token: undefined });
    }
  });

  it('keeps the page’s api and ws choices and the folder the app is served from', () => {
    const link = shareUrl(at('https://host.example/tools/chat/?session=x&token=t&ws=wss://ws-b.example&api=https://api.example'), SESSION);
    expect(link).toBe(`https://host.example/tools/chat/?session=${SESSION}&api=https%3A%2F%2Fapi.example&ws=wss%3A%2F%2Fws-b.example`);
  });
});
