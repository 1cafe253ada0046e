import type { RequestHandler, Response } from 'express';
import { bearerToken, type Principal, type TokenVerifier } from '@chat/auth';

const PRINCIPAL = 'principal';

/** Verifies the bearer token before anything else is read; the verifier throws ChatError('unauthorized'). */
export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const principal = await verifier(bearerToken(req.headers.authorization));
    res.locals[PRINCIPAL] = principal;
    next();
  };
}

export function principalOf(res: Response): Principal {
  const principal: unknown = res.locals[PRINCIPAL];
  if (principal === undefined) throw new Error('principalOf called on a route without authenticate');
  return principal as Principal;
}
