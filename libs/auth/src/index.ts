export { createTokenVerifier, ADMIN_SCOPE, type Principal, type TokenVerifier, type VerifierOptions } from './token-verifier.ts';
export { signToken, type TokenClaims } from './token-signer.ts';
export { bearerToken } from './bearer.ts';
