import { expect, test } from 'vitest';
import { describe as who, isAdmin } from './adminView.js';

test('only admin principals see the admin pages', () => {
  expect(isAdmin({ type: 'oidc', roles: ['ingest', 'admin'] })).toBe(true);
  expect(isAdmin({ type: 'oidc', roles: ['ingest', 'read'] })).toBe(false);
  expect(isAdmin(undefined)).toBe(false);
});

test('the header names a person by e-mail, a token by name', () => {
  expect(who({ type: 'oidc', subject: 'alice', actor: { id: 'alice', email: 'alice@example.com' }, roles: [] })).toBe('alice@example.com');
  expect(who({ type: 'token', name: 'console', roles: ['read'] })).toBe('token console');
});
