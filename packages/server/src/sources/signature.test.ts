/**
 * Webhook signatures against the vectors GitHub and Slack publish
 * (test/fixtures/sources/signatures.json), and the ways a signature fails.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { checkGithubSignature, checkSlackSignature, githubSignature, SLACK_WINDOW_SECONDS, slackSignature } from './signature.js';

const vectors = JSON.parse(readFileSync(new URL('../../../../test/fixtures/sources/signatures.json', import.meta.url), 'utf8')) as {
  github: Array<{ secret: string; body: string; header: string }>;
  slack: Array<{ secret: string; timestamp: string; body: string; header: string }>;
};

describe('GitHub X-Hub-Signature-256', () => {
  test.each(vectors.github)('the published vector', ({ secret, body, header }) => {
    expect(githubSignature(secret, body)).toBe(header);
    expect(checkGithubSignature(secret, Buffer.from(body), header)).toBeUndefined();
    expect(checkGithubSignature(secret, Buffer.from(body), header.toUpperCase().replace('SHA256=', 'sha256='))).toBeUndefined();
  });

  test('missing, malformed, wrong', () => {
    const { secret, body, header } = vectors.github[0]!;
    const bytes = Buffer.from(body);
    expect(checkGithubSignature(secret, bytes, undefined)).toBe('missing');
    expect(checkGithubSignature(secret, bytes, '')).toBe('missing');
    expect(checkGithubSignature(secret, bytes, header.replace('sha256=', ''))).toBe('invalid');
    expect(checkGithubSignature(secret, bytes, `${header}00`)).toBe('invalid');
    expect(checkGithubSignature(secret, Buffer.from(`${body} `), header)).toBe('invalid');
    expect(checkGithubSignature(`${secret}!`, bytes, header)).toBe('invalid');
  });
});

describe('Slack v0 signatures', () => {
  test.each(vectors.slack)('the published vector, within the window', ({ secret, timestamp, body, header }) => {
    expect(slackSignature(secret, timestamp, body)).toBe(header);
    expect(checkSlackSignature(secret, Buffer.from(body), timestamp, header, Number(timestamp) + SLACK_WINDOW_SECONDS)).toBeUndefined();
  });

  test('the window is five minutes either way; the timestamp is checked before the signature', () => {
    const { secret, timestamp, body, header } = vectors.slack[0]!;
    const bytes = Buffer.from(body);
    const t = Number(timestamp);
    expect(checkSlackSignature(secret, bytes, timestamp, header, t + 301)).toBe('expired');
    expect(checkSlackSignature(secret, bytes, timestamp, header, t - 301)).toBe('expired');
    expect(checkSlackSignature(secret, bytes, timestamp, 'v0=00', t + 301)).toBe('expired');
    expect(checkSlackSignature(secret, bytes, undefined, header, t)).toBe('missing');
    expect(checkSlackSignature(secret, bytes, timestamp, undefined, t)).toBe('missing');
    expect(checkSlackSignature(secret, bytes, '1e9', header, t)).toBe('invalid');
    expect(checkSlackSignature(secret, bytes, timestamp, header.replace('v0=', 'v1='), t)).toBe('invalid');
    expect(checkSlackSignature(secret, Buffer.from(body.replace('roadrunner', 'coyote')), timestamp, header, t)).toBe('invalid');
  });
});
