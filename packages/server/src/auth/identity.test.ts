import { describe, expect, test } from 'vitest';
import { identityOf, submitterOf } from './identity.js';
import { parseIssuers } from './issuer.js';

const [okta, entra, keycloak] = parseIssuers([
  { name: 'okta', preset: 'okta', issuer: 'https://acme.okta.com/oauth2/default', audience: 'api://default', roles: { admin: ['Stele Admins'], read: ['Auditors'] } },
  { name: 'entra', preset: 'entra', issuer: 'https://login.microsoftonline.com/tid-1/v2.0', audience: 'api://stele', roles: { read: ['Stele.Read'], ingest: [] } },
  { name: 'kc', issuer: 'https://kc.example.com/realms/acme', audience: 'stele', claims: { groups: ['realm_access.roles'] } },
]);
const exp = 2_000_000_000;

describe('claims to identity', () => {
  test('Okta access token: uid is the id, sub (the login) is not; groups grant roles', () => {
    const id = identityOf(okta!, { sub: 'ada@acme.com', uid: '00u1abcd', email: 'ada@acme.com', name: 'Ada', groups: ['Everyone', 'Stele Admins'], cid: '0oa-cli', exp });
    expect(id.actor).toEqual({ id: '00u1abcd', email: 'ada@acme.com', name: 'Ada', groups: ['Everyone', 'Stele Admins'], idp: okta!.issuer, verified: true });
    expect(id.kind).toBe('person');
    expect(id.roles).toEqual(['ingest', 'admin']);
    expect(submitterOf(id)).toEqual({ type: 'oidc', id: 'okta:00u1abcd', name: 'ada@acme.com' });
  });

  test('Okta client credentials (sub = cid): a service', () => {
    expect(identityOf(okta!, { sub: '0oa-ci', cid: '0oa-ci', exp }).kind).toBe('service');
  });

  test('Entra: oid, tid, preferred_username as the e-mail, app roles as groups; the groups overage is noticed', () => {
    const id = identityOf(entra!, {
      oid: 'b3f1-oid', sub: 'pairwise-sub', tid: 'tid-1', preferred_username: 'ada@contoso.com', name: 'Ada L', roles: ['Stele.Read'],
      _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph.microsoft.com/...' } }, azp: 'cli-app', exp,
    });
    expect(id.actor).toEqual({ id: 'b3f1-oid', email: 'ada@contoso.com', name: 'Ada L', groups: ['Stele.Read'], idp: entra!.issuer, verified: true });
    expect(id.tenant).toBe('tid-1');
    expect(id.groupsOverage).toBe(true);
    expect(id.roles).toEqual(['read']);
    expect(identityOf(entra!, { oid: 'x', hasgroups: true, exp }).groupsOverage).toBe(true);
    expect(identityOf(entra!, { oid: 'app-sp', idtyp: 'app', azp: 'ci-app', roles: [], exp }).kind).toBe('service');
  });

  test('Keycloak: a dotted claim path reaches realm_access.roles; an unverified e-mail is not bound', () => {
    const id = identityOf(keycloak!, { sub: 'kc-1', email: 'mallory@example.com', email_verified: false, realm_access: { roles: ['dev'] }, exp });
    expect(id.actor).toEqual({ id: 'kc-1', groups: ['dev'], idp: keycloak!.issuer, verified: true });
  });

  test('hostile claim values are fitted to the schema: control characters, long names, 100 groups, a long subject', () => {
    const id = identityOf(keycloak!, { sub: `s\u0000${'x'.repeat(300)}`, name: `N\u0007${'n'.repeat(400)}`, email: 'not an email', realm_access: { roles: Array.from({ length: 100 }, (_, i) => `g${i}`) }, exp });
    expect(id.actor.id).toHaveLength(256);
    expect(id.actor.name).toHaveLength(256);
    expect(id.actor.email).toBeUndefined();
    expect(id.actor.groups).toHaveLength(64);
    expect(id.groupsOverage).toBe(true);
    const submitter = submitterOf(id);
    expect(submitter.id).toMatch(/^kc:sha256:[0-9a-f]{64}$/);
    expect(submitter.name!.length).toBeLessThanOrEqual(128);
  });

  test('no id claim: ERR_TOKEN_CLAIMS', () => {
    expect(() => identityOf(entra!, { sub: 'only-sub', exp })).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_CLAIMS' }));
  });
});
