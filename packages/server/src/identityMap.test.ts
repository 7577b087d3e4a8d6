/**
 * The identity map's configuration (`[[identities]]`, and the `sources`
 * settings it sits beside): what is accepted, what stops the collector, and
 * what the collector's own audit event shows of it.
 */
import { describe, expect, test } from 'vitest';
import { ConfigError, publicConfig, resolveConfig } from './config.js';
import { createIdentityMap, linkEvent, parseIdentities } from './identityMap.js';
import type { Identity } from './auth/identity.js';

const alice = { email: 'alice@example.com', name: 'Alice', subjects: ['00u1'], kubernetes: ['alice'], aws: ['arn:aws:iam::1:user/alice'], git: ['Alice@Users.noreply.github.com'], slack: ['U1'] };

describe('parseIdentities', () => {
  test('a person per table; lists default to empty', () => {
    expect(parseIdentities([{ email: 'bob@example.com' }])).toEqual([{ email: 'bob@example.com', subjects: [], kubernetes: [], aws: [], git: [], slack: [], ids: [] }]);
  });

  test.each([
    ['not a list', { email: 'a@b' }],
    ['no e-mail', [{ subjects: ['x'] }]],
    ['an unknown key', [{ email: 'a@b', github: ['x'] }]],
    ['a list of numbers', [{ email: 'a@b', aws: [1] }]],
    ['one identifier for two people', [alice, { email: 'bob@example.com', kubernetes: ['alice'] }]],
  ])('%s is refused', (_name, value) => {
    expect(() => parseIdentities(value)).toThrow();
  });

  test('lookups by any identifier, e-mails without regard to case', () => {
    const map = createIdentityMap(parseIdentities([alice]));
    for (const id of ['alice@example.com', 'ALICE@example.com', '00u1', 'alice', 'arn:aws:iam::1:user/alice', 'alice@users.noreply.github.com', 'U1']) {
      expect(map.find(id)?.email).toBe('alice@example.com');
    }
    expect(map.find('bob')).toBeUndefined();
  });
});

describe('configuration', () => {
  test('identities and sources from a file; secrets from the environment; the audit event shows neither secrets nor the people', () => {
    const config = resolveConfig({
      file: { identities: [alice], sources: { tickets: ['\\bCHG\\d+\\b'], maxObjectBytes: 1024 } },
      env: { STELE_SOURCES_GITHUB_SECRET: 'gh', STELE_SOURCES_SLACK_SIGNING_SECRET: 'sl', STELE_SOURCES_MAX_OBJECT_BYTES: '2048' },
    });
    expect(config.identities).toHaveLength(1);
    expect(config.sources).toEqual({ tickets: ['\\bCHG\\d+\\b'], maxObjectBytes: 2048, github: { secret: 'gh' }, slack: { signingSecret: 'sl' } });
    const shown = JSON.stringify(publicConfig(config));
    expect(shown).not.toContain('"gh"');
    expect(shown).not.toContain('"sl"');
    expect(shown).not.toContain('alice@example.com');
    expect(publicConfig(config)).toMatchObject({ sources: { github: { secret: '(set)' } }, identities: { people: 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  test.each([
    ['a ticket pattern that does not compile', { sources: { tickets: ['(unclosed'] } }],
    ['tickets that are not a list', { sources: { tickets: 7 } }],
    ['an unknown source setting', { sources: { gitlab: { secret: 'x' } } }],
    ['a bad person', { identities: [{ name: 'no e-mail' }] }],
    ['an object bound past an entry', { sources: { maxObjectBytes: 70_000 } }],
  ])('%s stops the collector (ERR_CONFIG)', (_name, file) => {
    expect(() => resolveConfig({ file })).toThrow(ConfigError);
  });
});

describe('linkEvent', () => {
  const identity = (kind: 'person' | 'service', email?: string): Identity => ({
    issuerName: 'okta',
    issuer: 'https://acme.okta.com',
    kind,
    subject: '00u1',
    actor: { id: '00u1', ...(email && { email }), idp: 'https://acme.okta.com', groups: ['g'], name: 'Alice', verified: true },
    groupsOverage: false,
    roles: ['ingest'],
    expires: 0,
  });

  test('a person with an e-mail: a deterministic link without groups or name, so later logins repeat it exactly', () => {
    const event = linkEvent(identity('person', 'alice@example.com'))!;
    expect(event).toMatchObject({ source: 'stele', action: 'stele.identity.link', actor: { id: '00u1', email: 'alice@example.com', idp: 'https://acme.okta.com', verified: true } });
    expect(event.actor).not.toHaveProperty('groups');
    expect(event).not.toHaveProperty('time');
    expect(linkEvent(identity('person', 'alice@example.com'))!.id).toBe(event.id);
  });

  test('no link for services or people without an e-mail', () => {
    expect(linkEvent(identity('service', 'svc@example.com'))).toBeUndefined();
    expect(linkEvent(identity('person'))).toBeUndefined();
  });
});
