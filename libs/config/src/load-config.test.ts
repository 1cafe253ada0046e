import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './index.ts';

describe('loadConfig', () => {
  it('applies the contract defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.ports).toEqual({ gateway: 8080, api: 8081, persister: 8082 });
    expect(config.limits.maxMessageChars).toBe(4000);
    expect(config.limits.ratePerSec).toBe(20);
    expect(config.limits.rateBurst).toBe(40);
    expect(config.limits.maxFrameBytes).toBe(65536);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('serves the UI to its own origin only and framed by its own pages unless told otherwise', () => {
    expect(loadConfig({}).web).toEqual({ apiUrls: [], wsUrls: [], frameAncestors: ["'self'"] });
    const web = loadConfig({ WEB_API_URLS: 'https://api.example/, http://localhost:8081', WEB_WS_URLS: 'wss://chat.example', WEB_FRAME_ANCESTORS: "'self' https://*.analysis.example http://localhost:8501" }).web;
    expect(web).toEqual({ apiUrls: ['https://api.example', 'http://localhost:8081'], wsUrls: ['wss://chat.example'], frameAncestors: ["'self'", 'https://*.analysis.example', 'http://localhost:8501'] });
  });

  it.each([
    ['WEB_API_URLS', 'ws://not-http.example'],
    ['WEB_API_URLS', "https://a.example/x;script-src 'unsafe-inline'"],
    ['WEB_API_URLS', 'https://a.example/?token=x'],
    ['WEB_WS_URLS', 'https://not-ws.example'],
    ['WEB_FRAME_ANCESTORS', "'none' https://a.example"],
    ['WEB_FRAME_ANCESTORS', "'unsafe-inline'"],
    ['WEB_FRAME_ANCESTORS', 'https://a.example;script-src'],
    ['WEB_FRAME_ANCESTORS', '*'],
  ])('refuses %s=%s, which would loosen or break the page policy', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(expect.objectContaining({ variable }));
  });

  it('names the variable when a value is bad', () => {
    expect(() => loadConfig({ GATEWAY_PORT: 'eighty' })).toThrow(/^GATEWAY_PORT: /);
    expect(() => loadConfig({ REDIS_URL: 'http://x' })).toThrow(/^REDIS_URL: /);
    expect(() => loadConfig({ MAX_MESSAGE_CHARS: '0' })).toThrow(ConfigError);
  });

  it('takes one NATS server or a comma-separated list of a cluster\'s servers, and refuses a list with a bad entry', () => {
    expect(loadConfig({}).natsServers).toEqual(['nats://127.0.0.1:4222']);
    expect(loadConfig({ NATS_URL: 'nats://a:4222, nats://b:4222 ,tls://c:4222' }).natsServers).toEqual(['nats://a:4222', 'nats://b:4222', 'tls://c:4222']);
    expect(() => loadConfig({ NATS_URL: 'nats://a:4222,http://b:4222' })).toThrow(/^NATS_URL: .*several separated by commas/);
    expect(() => loadConfig({ NATS_URL: 'nats://a:4222,' })).toThrow(/^NATS_URL: /);
    expect(() => loadConfig({ NATS_URL: ',' })).toThrow(/^NATS_URL: /);
  });

  it('requires a token key where tokens are verified', () => {
    expect(() => loadConfig({}, { requireAuth: true })).toThrow(/^JWT_SECRET: /);
    expect(loadConfig({ JWT_SECRET: 'x'.repeat(32) }, { requireAuth: true }).jwt.secret).toBe('x'.repeat(32));
    expect(() => loadConfig({ JWT_SECRET: 'short' })).toThrow(/^JWT_SECRET: /);
  });

  it('refuses the development sign-in outside the embedded development mode', () => {
    expect(() => loadConfig({ DEV_SIGNIN: '1' })).toThrow(/^DEV_SIGNIN: /);
    expect(() => loadConfig({ DEV_SIGNIN: '1', CHAT_BACKEND: 'embedded', NODE_ENV: 'production' })).toThrow(/^DEV_SIGNIN: /);
    expect(loadConfig({ DEV_SIGNIN: '1', CHAT_BACKEND: 'embedded' }).devSignIn).toBe(true);
  });

  it('returns a frozen object, frozen all the way down', () => {
    const config = loadConfig({ ALLOWED_ORIGINS: 'https://a.example, https://b.example', JWT_SECRET: 'x'.repeat(32) });
    expect(config.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
    const unfrozen: string[] = [];
    const visit = (value: unknown, path: string): void => {
      if (typeof value !== 'object' || value === null) return;
      if (!Object.isFrozen(value)) unfrozen.push(path);
      for (const [key, inner] of Object.entries(value)) visit(inner, `${path}.${key}`);
    };
    visit(config, 'config');
    expect(unfrozen).toEqual([]);
    // Modules run in strict mode, where writing to a frozen object throws.
    expect(() => {
      (config as { redisUrl: string }).redisUrl = 'redis://elsewhere';
    }).toThrow(TypeError);
    expect(() => {
      (config.allowedOrigins as string[]).push('https://evil.example');
    }).toThrow(TypeError);
    expect(() => {
      (config.limits as { ratePerSec: number }).ratePerSec = 1_000;
    }).toThrow(TypeError);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.limits.ratePerSec).toBe(20);
  });
});
