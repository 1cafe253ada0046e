import { createTokenVerifier, type TokenVerifier } from '@chat/auth';
import type { Config } from '@chat/config';

/** The token verifier that JWT_SECRET / JWT_JWKS_URL / JWT_ISSUER / JWT_AUDIENCE describe. */
export function createVerifier(config: Config): TokenVerifier {
  const { secret, jwksUrl, issuer, audience } = config.jwt;
  return createTokenVerifier({
    ...(secret === undefined ? {} : { secret }),
    ...(jwksUrl === undefined ? {} : { jwksUrl }),
    ...(issuer === undefined ? {} : { issuer }),
    ...(audience === undefined ? {} : { audience }),
  });
}
