import { EventValidationError, LogError } from '@stele/log';
import { StoreError } from '@stele/store';

/** The codes of the HTTP API, a closed list (docs/API.md). */
export type ApiErrorCode =
  | 'ERR_AUTH_MISSING' // no credential: 401
  | 'ERR_AUTH_INVALID' // an unknown, revoked or malformed credential: 401
  | 'ERR_FORBIDDEN' // a valid credential without the scope (or an OIDC identity without a role): 403
  | 'ERR_TOKEN_MALFORMED' // a bearer token that looks like a JWT but does not parse: 401
  | 'ERR_TOKEN_UNSIGNED' // a JWT with alg "none": 401
  | 'ERR_TOKEN_ALG' // a JWT signed with an algorithm the issuer is not allowed (HS256 and every symmetric one included): 401
  | 'ERR_TOKEN_ISSUER_UNKNOWN' // a JWT whose issuer is not configured: 401
  | 'ERR_TOKEN_ISSUER' // a JWT signed by a configured issuer's key but naming another issuer: 401
  | 'ERR_TOKEN_KID' // a JWT signed with a key the issuer does not publish (after one rate-limited refetch): 401
  | 'ERR_TOKEN_SIGNATURE' // a JWT whose signature does not verify (altered after signing): 401
  | 'ERR_TOKEN_EXPIRED' // past exp (beyond the clock skew): 401
  | 'ERR_TOKEN_NOT_YET_VALID' // before nbf (beyond the clock skew): 401
  | 'ERR_TOKEN_AUDIENCE' // aud is not one of the issuer's audiences: 401
  | 'ERR_TOKEN_CLAIMS' // a required claim (exp, the identity's id) is missing or of the wrong type: 401
  | 'ERR_IDP_UNAVAILABLE' // the issuer's discovery document or keys could not be fetched: 503
  | 'ERR_NOT_FOUND' // 404
  | 'ERR_BAD_REQUEST' // a malformed, unknown or repeated parameter, a malformed URL or request: 400
  | 'ERR_MALFORMED_JSON' // a body that is not JSON / NDJSON: 400
  | 'ERR_UNSUPPORTED_MEDIA_TYPE' // 415
  | 'ERR_BODY_TOO_LARGE' // 413
  | 'ERR_HEADERS_TOO_LARGE' // the request line and headers exceed Node's maxHeaderSize: 431
  | 'ERR_TOO_MANY_EVENTS' // more events than a request may carry: 413
  | 'ERR_EVENT_INVALID' // schema violations: 422, with details naming each event and field
  | 'ERR_PAYLOAD_INVALID' // a source's payload not of its documented schema: 422, with details naming each item and field
  | 'ERR_SIGNATURE_MISSING' // a webhook without its signature headers: 401
  | 'ERR_SIGNATURE_INVALID' // a webhook signature that does not match the body: 401
  | 'ERR_SIGNATURE_EXPIRED' // a signed request whose timestamp is outside the replay window: 401
  | 'ERR_SOURCE_DISABLED' // a webhook source whose secret is not configured: 404
  | 'ERR_ID_CONFLICT' // an id already in the log with other content: 409
  | 'ERR_TOKEN_EXISTS' // creating an API token with the name of a live one: 409
  | 'ERR_DEVICE_STATE' // a device action that does not apply to the device as it stands (retiring a retired one): 409
  | 'ERR_OVERLOADED' // the append queue is full: 503 with Retry-After
  | 'ERR_UNAVAILABLE' // shutting down: 503
  | 'ERR_TIMEOUT' // the request took too long: 408
  | 'ERR_STORE_CORRUPT' // what the store holds does not verify (an evidence bundle built from it): 500, run stele verify
  | 'ERR_INTERNAL'; // 500

/** An error the API answers with `{"error":{"code","message"[,"details"]}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The body of an error answer. */
export function errorBody(code: string, message: string, details?: unknown): { error: { code: string; message: string; details?: unknown } } {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** Maps what the store and the log core throw onto API errors. */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof EventValidationError) {
    return new ApiError(422, 'ERR_EVENT_INVALID', err.message, err.errors.map(({ event, field, code, message }) => ({ event, field, code, message })));
  }
  if (err instanceof StoreError) {
    switch (err.code) {
      case 'ERR_ID_CONFLICT':
        return new ApiError(409, 'ERR_ID_CONFLICT', err.message);
      case 'ERR_OVERLOADED':
        return new ApiError(503, 'ERR_OVERLOADED', err.message, undefined, { 'retry-after': '1' });
      case 'ERR_CLOSED':
        return new ApiError(503, 'ERR_UNAVAILABLE', 'the collector is shutting down', undefined, { 'retry-after': '5' });
      case 'ERR_ENTRY_TOO_LARGE':
        return new ApiError(422, 'ERR_EVENT_INVALID', err.message);
      case 'ERR_NOT_FOUND':
        return new ApiError(404, 'ERR_NOT_FOUND', err.message);
      case 'ERR_OUT_OF_RANGE':
        return new ApiError(400, 'ERR_BAD_REQUEST', err.message);
      default:
        return undefined;
    }
  }
  if (err instanceof LogError && err.code === 'ERR_TIME_MALFORMED') return new ApiError(400, 'ERR_BAD_REQUEST', err.message);
  return undefined;
}
