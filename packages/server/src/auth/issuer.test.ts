import { describe, expect, test } from 'vitest';
import { parse as parseToml } from 'smol-toml';
import { resolveConfig } from '../config.js';
import { PRESETS, parseIssuers } from './issuer.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as { code?: string }).code ?? 'thrown';
  }
  return 'ok';
};

describe('oidc.issuers', () => {
  test('a TOML [[oidc.issuers]] with a preset: defaults filled in, roles default to ingest for everyone', () => {
    const file = parseToml(`
[[oidc.issuers]]
preset = "entra"
issuer = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0"
audience = "api://stele"
clientId = "11111111-2222-3333-4444-555555555555"
[oidc.issuers.roles]
admin = ["9f8e7d6c-0000-0000-0000-000000000000"]
`);
    const [entra] = resolveConfig({ file }).oidc.issuers;
    expect(entra).toEqual({
      name: 'login', preset: 'entra', issuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0', audience: ['api://stele'],
      algorithms: ['RS256'], clockSkewSeconds: 60, clientId: '11111111-2222-3333-4444-555555555555', scopes: PRESETS.entra.scopes, loginToken: 'access',
      claims: PRESETS.entra.claims, roles: { ingest: ['*'], read: [], admin: ['9f8e7d6c-0000-0000-0000-000000000000'] },
    });
  });

  test('claim mappings override the preset per field', () => {
    const [okta] = parseIssuers([{ preset: 'okta', name: 'okta', issuer: 'https://acme.okta.com/oauth2/default', audience: ['api://default'], claims: { groups: ['stele_groups'] } }]);
    expect(okta!.claims).toEqual({ ...PRESETS.okta.claims, groups: ['stele_groups'] });
  });

  test('refused: symmetric or unknown algorithms, plain http off loopback, unknown keys, no audience, duplicates', () => {
    const base = { issuer: 'https://idp.example.com', audience: 'api://stele' };
    expect(() => parseIssuers([{ ...base, algorithms: ['HS256'] }])).toThrow(/HS256/);
    expect(() => parseIssuers([{ ...base, algorithms: ['none'] }])).toThrow();
    expect(() => parseIssuers([{ ...base, issuer: 'http://idp.example.com' }])).toThrow(/https/);
    expect(parseIssuers([{ ...base, issuer: 'http://127.0.0.1:9000' }])).toHaveLength(1);
    expect(() => parseIssuers([{ ...base, audiences: 'x' }])).toThrow(/unknown/);
    expect(() => parseIssuers([{ ...base, claims: { user: ['x'] } }])).toThrow(/unknown/);
    expect(() => parseIssuers([{ ...base, roles: { superuser: ['x'] } }])).toThrow(/unknown/);
    expect(() => parseIssuers([{ issuer: base.issuer }])).toThrow(/audience/);
    expect(() => parseIssuers([base, { ...base }])).toThrow(/two/);
    expect(() => parseIssuers([{ ...base, preset: 'auth0' }])).toThrow(/preset/);
    expect(codeOf(() => resolveConfig({ file: { oidc: { issuers: [{ ...base, algorithms: ['HS256'] }] } } }))).toBe('ERR_CONFIG');
    expect(codeOf(() => resolveConfig({ file: { oidc: { issuer: base.issuer } } }))).toBe('ERR_CONFIG');
  });
});
