/** Reads `sub` and `name` from a JWT for display only; the server is what verifies it. */
export function tokenClaims(token: string): { sub?: string; name?: string } {
  const payload = token.split('.')[1];
  if (payload === undefined) return {};
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))) as Record<string, unknown>;
    return {
      ...(typeof claims['sub'] === 'string' ? { sub: claims['sub'] } : {}),
      ...(typeof claims['name'] === 'string' ? { name: claims['name'] } : {}),
    };
  } catch {
    return {};
  }
}
