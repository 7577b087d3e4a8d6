import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { initStore, openStore, type Store } from '@stele/store';
import { buildApp } from '../app.js';
import { openTokenStore } from '../auth/tokenStore.js';
import { resolveConfig } from '../config.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function start(consoleDir?: string) {
  const root = mkdtempSync(join(tmpdir(), 'stele-console-'));
  const dir = join(root, 'data');
  await initStore(dir);
  const config = resolveConfig({ flags: { dir } });
  const store: Store = await openStore(dir);
  const tokens = openTokenStore(dir);
  const { app } = buildApp({ store, config, tokens, consoleDir });
  cleanup.push(async () => {
    await app.close();
    await store.log.close();
    tokens.close();
    rmSync(root, { recursive: true, force: true });
  });
  return { app, root };
}

test('the console is served at / while the API keeps its routes and credentials', async () => {
  const web = mkdtempSync(join(tmpdir(), 'stele-web-'));
  cleanup.push(async () => rmSync(web, { recursive: true, force: true }));
  writeFileSync(join(web, 'index.html'), '<!doctype html><title>Stele</title>');
  const { app } = await start(web);
  const page = await app.inject({ url: '/' });
  expect(page.statusCode).toBe(200);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(page.headers['content-security-policy']).toContain("default-src 'self'");
  expect(page.body).toContain('<title>Stele</title>');
  expect((await app.inject({ url: '/v1/events' })).json().error.code).toBe('ERR_AUTH_MISSING');
  const missing = await app.inject({ url: '/nothing-here.js' });
  expect(missing.statusCode).toBe(404);
  expect(missing.json().error.code).toBe('ERR_NOT_FOUND');
});

test('without a built console, / is the API 404', async () => {
  const { app } = await start(join(tmpdir(), 'no-such-console'));
  expect((await app.inject({ url: '/' })).json().error.code).toBe('ERR_NOT_FOUND');
});
