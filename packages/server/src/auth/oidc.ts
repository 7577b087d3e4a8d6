import { compactVerify, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { ApiError, type ApiErrorCode } from '../errors.js';
import { ClaimsError, identityOf, type Identity } from './identity.js';
import type { IssuerConfig } from './issuer.js';
import { IdpUnavailableError, issuerKeys, type IssuerKeys, type IssuerMetadata, type KeyTiming } from './jwks.js';

/** Verifies bearer JWTs from the configured issuers. */
export interface OidcVerifier {
  readonly issuers: readonly IssuerConfig[];
  /**
   * The identity a token proves.
   *
   * @throws ApiError 401 with a code naming what failed (docs/API.md), or 503 ERR_IDP_UNAVAILABLE
   */
  verify(token: string): Promise<Identity>;
  /** An issuer's discovery document, if it could be fetched. */
  metadata(issuer: IssuerConfig): Promise<IssuerMetadata | undefined>;
}

/** True for a bearer credential shaped like a compact JWS (alg none included: its signature part is empty). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

const fail = (code: ApiErrorCode, message: string) =>
  new ApiError(401, code, message, undefined, { 'www-authenticate': `Bearer error="invalid_token", error_description="${code}"` });

/** Creates the verifier over the issuers of `oidc.issuers`; nothing is fetched until a token arrives. */
export function createOidcVerifier(issuers: readonly IssuerConfig[], timing: KeyTiming = {}): OidcVerifier {
  const byIssuer = new Map<string, { config: IssuerConfig; keys: IssuerKeys }>();
  for (const config of issuers) byIssuer.set(config.issuer, { config, keys: issuerKeys(config, timing) });

  /** Whether any configured issuer's keys, as already fetched, verify the token (no fetch: the token is hostile). */
  async function signedByKnownKey(token: string): Promise<boolean> {
    for (const { config, keys } of byIssuer.values()) {
      const local = keys.cached();
      if (!local) continue;
      try {
        await compactVerify(token, local, { algorithms: config.algorithms });
        return true;
      } catch {
        // not this issuer's key
      }
    }
    return false;
  }

  return {
    issuers,
    async verify(token) {
      // Everything read here is attacker-controlled until jwtVerify has checked the signature.
      let header: ReturnType<typeof decodeProtectedHeader>;
      let claimed: JWTPayload;
      try {
        header = decodeProtectedHeader(token);
        claimed = decodeJwt(token);
      } catch {
        throw fail('ERR_TOKEN_MALFORMED', 'the bearer token is not a well-formed JWT');
      }
      if (typeof header.alg !== 'string' || header.alg.toLowerCase() === 'none') throw fail('ERR_TOKEN_UNSIGNED', 'the token is not signed (alg none)');
      const entry = typeof claimed.iss === 'string' ? byIssuer.get(claimed.iss) : undefined;
      if (!entry) {
        if (await signedByKnownKey(token)) throw fail('ERR_TOKEN_ISSUER', 'the token was signed by a configured issuer\'s key but names another issuer');
        throw fail('ERR_TOKEN_ISSUER_UNKNOWN', 'the token\'s issuer is not configured on this collector');
      }
      const { config, keys } = entry;
      if (!config.algorithms.includes(header.alg)) throw fail('ERR_TOKEN_ALG', `the token is signed with ${header.alg}; ${config.name} allows ${config.algorithms.join(', ')}`);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys.getKey, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: config.algorithms,
          clockTolerance: config.clockSkewSeconds,
          requiredClaims: ['exp'],
        }));
      } catch (err) {
        throw mapError(err);
      }
      try {
        return identityOf(config, payload as Record<string, unknown>);
      } catch (err) {
        if (err instanceof ClaimsError) throw fail('ERR_TOKEN_CLAIMS', err.message);
        throw err;
      }
    },
    metadata: (issuer) => byIssuer.get(issuer.issuer)?.keys.metadata() ?? Promise.resolve(undefined),
  };
}

/** jose's errors onto the API's codes. */
function mapError(err: unknown): ApiError {
  if (err instanceof IdpUnavailableError || err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err instanceof TypeError) {
    return new ApiError(503, 'ERR_IDP_UNAVAILABLE', 'the identity provider\'s keys could not be fetched; try again shortly', undefined, { 'retry-after': '5' });
  }
  if (err instanceof errors.JWKSNoMatchingKey) return fail('ERR_TOKEN_KID', 'the token is signed with a key its issuer does not publish');
  if (err instanceof errors.JWSSignatureVerificationFailed) return fail('ERR_TOKEN_SIGNATURE', 'the token\'s signature does not verify');
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) return fail('ERR_TOKEN_ALG', 'the token\'s algorithm is not allowed');
  if (err instanceof errors.JWTExpired) return fail('ERR_TOKEN_EXPIRED', 'the token has expired');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.reason === 'missing' || err.reason === 'invalid') return fail('ERR_TOKEN_CLAIMS', `the token's ${err.claim} claim is ${err.reason}`);
    switch (err.claim) {
      case 'nbf':
        return fail('ERR_TOKEN_NOT_YET_VALID', 'the token is not valid yet (nbf)');
      case 'aud':
        return fail('ERR_TOKEN_AUDIENCE', 'the token is not meant for this collector (aud)');
      case 'iss':
        return fail('ERR_TOKEN_ISSUER', 'the token names another issuer');
      default:
        return fail('ERR_TOKEN_CLAIMS', `the token's ${err.claim} claim failed its check`);
    }
  }
  if (err instanceof errors.JWTInvalid || err instanceof errors.JWSInvalid) return fail('ERR_TOKEN_MALFORMED', 'the token is not a well-formed JWT');
  if (err instanceof errors.JOSEError) return fail('ERR_TOKEN_SIGNATURE', `the token does not verify (${err.code})`);
  throw err;
}
