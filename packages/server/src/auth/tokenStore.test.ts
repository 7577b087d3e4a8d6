/** The token store's rule that names identify live tokens: one live token per name, enforced under the write lock. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { openTokenStore, TokenExistsError, type TokenStore } from './tokenStore.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

function stores(n: number): TokenStore[] {
  const dir = mkdtempSync(join(tmpdir(), 'stele-tokens-'));
  const opened = Array.from({ length: n }, () => openTokenStore(dir));
  cleanup.push(() => (opened.forEach((s) => s.close()), rmSync(dir, { recursive: true, force: true })));
  return opened;
}

/** What create throws, if anything. */
function refusal(store: TokenStore, name: string): unknown {
  try {
    store.create(name, 'read');
  } catch (err) {
    return err;
  }
  return undefined;
}

test('a second live token of a name is refused with ERR_TOKEN_EXISTS naming the first; nothing is stored', () => {
  const [tokens] = stores(1);
  const { record } = tokens!.create('ci', 'ingest');
  const err = refusal(tokens!, 'ci');
  expect(err).toBeInstanceOf(TokenExistsError);
  expect(err).toMatchObject({ code: 'ERR_TOKEN_EXISTS', existing: { id: record.id, name: 'ci' }, message: `a live token is already named ci (id ${record.id})` });
  expect(tokens!.list().map((t) => t.id)).toEqual([record.id]);
});

test('a revoked name is free again; other names never clash', () => {
  const [tokens] = stores(1);
  tokens!.create('ci', 'ingest');
  tokens!.create('ci-2', 'ingest');
  expect(tokens!.revoke('ci')).toBeDefined();
  expect(refusal(tokens!, 'ci')).toBeUndefined();
  expect(tokens!.live('ci')).toHaveLength(1);
});

test('the rule holds across connections to one auth.db (the collector and stele token beside it)', () => {
  const [served, cli] = stores(2);
  served!.create('kube-audit-prod', 'ingest');
  expect((refusal(cli!, 'kube-audit-prod') as { code?: string } | undefined)?.code).toBe('ERR_TOKEN_EXISTS');
});
