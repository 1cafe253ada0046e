/**
 * The development sign-in of the single-process mode: `POST /dev/token {name}` → `{token, userId, sessionId?}`.
 * Production deployments do not serve it; there the page must be opened with `?token=`.
 */
export interface DevIdentity {
  token: string;
  userId: string;
  /** A shared session the sign-in made this person a member of, when it offers one. */
  sessionId?: string;
}

export async function devSignInAvailable(apiUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${apiUrl}/dev/token`, { method: 'GET' });
    return response.status !== 404;
  } catch {
    return false;
  }
}

export async function devSignIn(apiUrl: string, name: string): Promise<DevIdentity> {
  const response = await fetch(`${apiUrl}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (!response.ok) throw new Error(`Sign-in failed: ${await refusalText(response)}`);
  const body = (await response.json()) as Partial<DevIdentity>;
  if (typeof body.token !== 'string' || typeof body.userId !== 'string') throw new Error('Sign-in answered without a token.');
  return { token: body.token, userId: body.userId, ...(typeof body.sessionId === 'string' ? { sessionId: body.sessionId } : {}) };
}

/** The server's own words for a refusal (`{error:{message}}`), or the status when it gave none. */
async function refusalText(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return `${body.error.message}.`;
  } catch {
    // Not JSON: fall through to the status.
  }
  return `the server answered ${response.status}.`;
}
