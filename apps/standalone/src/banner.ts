/** Says loudly that this is the development mode, where to open the chat, and who can reach it. */
export function printBanner(info: { url: string; host: string; dataDir: string; devSignIn: boolean }): void {
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
    ...reachLines(info.host, info.devSignIn),
    '   Stop with Ctrl+C.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function reachLines(host: string, devSignIn: boolean): string[] {
  if (host === '127.0.0.1' || host === 'localhost' || host === '::1') {
    return [`   Listening on:    ${host} only. HOST=0.0.0.0 opens it to your network${devSignIn ? ', where anyone could then sign in under any name and read the lobby' : ''}.`];
  }
  return [`   Listening on:    ${host}: OPEN TO THE NETWORK${devSignIn ? '. Anyone who can reach this machine can sign in under any name and read the lobby' : ''}.`];
}
