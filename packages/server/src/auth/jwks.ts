import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, type JWTVerifyGetKey, type RemoteJWKSet } from 'jose';
import type { IssuerConfig } from './issuer.js';

/** The parts of an issuer's discovery document the collector and `stele login` use. */
export interface IssuerMetadata {
  issuer: string;
  jwks_uri: string;
  token_endpoint?: string;
  device_authorization_endpoint?: string;
  authorization_endpoint?: string;
  revocation_endpoint?: string;
}

/** Timing of key fetches; the defaults suit production, tests shorten them. */
export interface KeyTiming {
  /** Milliseconds after a fetch during which an unknown kid does not fetch again (default 30,000). */
  cooldownMs?: number;
  /** Milliseconds keys are used before a refetch (default 600,000). */
  cacheMaxAgeMs?: number;
  /** Milliseconds a fetch may take (default 5,000). */
  timeoutMs?: number;
}

/** One issuer's signing keys, fetched on first use and kept fresh. */
export interface IssuerKeys {
  /** The key for a token's header, for jose's jwtVerify: an unknown kid refetches once, unless a fetch was recent. */
  getKey: JWTVerifyGetKey;
  /** The keys fetched so far, without fetching (undefined before the first fetch). */
  cached(): JWTVerifyGetKey | undefined;
  /** The discovery document, fetched once (undefined when jwksUri is configured and it was never needed). */
  metadata(): Promise<IssuerMetadata | undefined>;
}

/** A discovery or key fetch that failed: the collector answers 503 ERR_IDP_UNAVAILABLE. */
export class IdpUnavailableError extends Error {
  readonly code = 'ERR_IDP_UNAVAILABLE';
}

/**
 * The keys of one issuer: its JWKS (from `jwksUri`, or its discovery
 * document) through jose's remote key set, which caches the keys, refetches
 * when a token names a kid it has not seen (key rotation), and fetches at
 * most once per cooldown however many unknown kids arrive.
 */
export function issuerKeys(config: IssuerConfig, timing: KeyTiming = {}): IssuerKeys {
  const timeout = timing.timeoutMs ?? 5_000;
  let discovery: Promise<IssuerMetadata> | undefined;
  let remote: RemoteJWKSet | undefined;

  const discover = (): Promise<IssuerMetadata> =>
    (discovery ??= fetchMetadata(config.issuer, timeout).catch((err: unknown) => {
      discovery = undefined; // a failed discovery is retried by the next request
      throw err;
    }));

  const keySet = async (): Promise<RemoteJWKSet> => {
    if (remote) return remote;
    const uri = config.jwksUri ?? (await discover()).jwks_uri;
    remote ??= createRemoteJWKSet(new URL(uri), {
      cooldownDuration: timing.cooldownMs ?? 30_000,
      cacheMaxAge: timing.cacheMaxAgeMs ?? 600_000,
      timeoutDuration: timeout,
    });
    return remote;
  };

  return {
    async getKey(header, token) {
      const set = await keySet();
      return set(header, token);
    },
    cached() {
      const jwks: JSONWebKeySet | undefined = remote?.jwks();
      return jwks ? createLocalJWKSet(jwks) : undefined;
    },
    async metadata() {
      try {
        return await discover();
      } catch {
        return undefined;
      }
    },
  };
}

/** Fetches and checks `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0). */
export async function fetchMetadata(issuer: string, timeoutMs: number): Promise<IssuerMetadata> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let body: unknown;
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    body = await response.json();
  } catch (err) {
    throw new IdpUnavailableError(`cannot fetch ${url}: ${(err as Error).message}`);
  }
  // The issuer's own answer, but still checked: it must name itself and say where its keys are.
  const meta = body as Partial<IssuerMetadata> | null;
  if (!meta || typeof meta !== 'object' || meta.issuer !== issuer || typeof meta.jwks_uri !== 'string') {
    throw new IdpUnavailableError(`${url} is not the discovery document of ${issuer}`);
  }
  return meta as IssuerMetadata;
}
