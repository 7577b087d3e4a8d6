import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: GitHub's `X-Hub-Signature-256` and Slack's v0 request
 * signature. Both are HMAC-SHA256 over the raw body, checked before the body
 * is parsed: until then it is an attacker's bytes.
 */

/** Why a signature was refused; the route turns each into its 401 code. */
export type SignatureFailure = 'missing' | 'invalid' | 'expired';

/** How far a Slack request's timestamp may be from our clock (Slack's recommendation: five minutes). */
export const SLACK_WINDOW_SECONDS = 300;

const hmac = (secret: string, data: Buffer | string) => createHmac('sha256', secret).update(data).digest();

/** Compares a hex digest in constant time; false for anything that is not 64 hex digits. */
function equalHex(expected: Buffer, hex: string): boolean {
  if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
  return timingSafeEqual(expected, Buffer.from(hex, 'hex'));
}

/** Checks GitHub's `X-Hub-Signature-256: sha256=<hex HMAC of the body>`; undefined when it holds. */
export function checkGithubSignature(secret: string, body: Buffer, header: string | undefined): SignatureFailure | undefined {
  if (header === undefined || header === '') return 'missing';
  const match = /^sha256=([0-9a-fA-F]+)$/.exec(header.trim());
  if (!match) return 'invalid';
  return equalHex(hmac(secret, body), match[1]!) ? undefined : 'invalid';
}

/** The header value GitHub would send for a body (tests and clients that relay GitHub's events). */
export function githubSignature(secret: string, body: Buffer | string): string {
  return `sha256=${hmac(secret, body).toString('hex')}`;
}

/**
 * Checks Slack's `X-Slack-Signature: v0=<hex HMAC of "v0:<timestamp>:<body>">`
 * with `X-Slack-Request-Timestamp` within {@link SLACK_WINDOW_SECONDS} of
 * `nowSeconds`; undefined when it holds. The timestamp is checked first, so
 * an old request is refused whatever its signature.
 */
export function checkSlackSignature(secret: string, body: Buffer, timestamp: string | undefined, header: string | undefined, nowSeconds: number): SignatureFailure | undefined {
  if (timestamp === undefined || timestamp === '' || header === undefined || header === '') return 'missing';
  if (!/^\d{1,12}$/.test(timestamp)) return 'invalid';
  if (Math.abs(nowSeconds - Number(timestamp)) > SLACK_WINDOW_SECONDS) return 'expired';
  const match = /^v0=([0-9a-fA-F]+)$/.exec(header.trim());
  if (!match) return 'invalid';
  return equalHex(hmac(secret, Buffer.concat([Buffer.from(`v0:${timestamp}:`), body])), match[1]!) ? undefined : 'invalid';
}

/** The header value Slack would send for a body at a timestamp. */
export function slackSignature(secret: string, timestamp: string, body: Buffer | string): string {
  return `v0=${hmac(secret, Buffer.concat([Buffer.from(`v0:${timestamp}:`), Buffer.from(body)])).toString('hex')}`;
}
