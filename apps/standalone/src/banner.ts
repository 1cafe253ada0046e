/** Says loudly that this is the development mode, and where to open the chat. */
export function printBanner(info: { url: string; dataDir: string; devSignIn: boolean }): void {
  const lines = [
    '',
    '  ========================================================================',
    '   DEVELOPMENT MODE: everything runs in this one process (embedded).',
    '   Not for production: no Redis, NATS or PostgreSQL server, and a',
    info.devSignIn ? '   development sign-in that lets anyone pick any name.' : '   token-only sign-in.',
    '  ========================================================================',
    '',
    `   Open the chat:   ${info.url}/`,
    `   REST API:        ${info.url}/api/chat   (OpenAPI at ${info.url}/openapi.json)`,
    `   Data folder:     ${info.dataDir}`,
    '   Stop with Ctrl+C.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
