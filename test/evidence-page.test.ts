/**
 * The offline evidence verifier page in Chromium: `stele verify-bundle FILE
 * --html OUT` writes the self-contained page next to a bundle from a real
 * `stele serve`; opened from file:// with no server, it proves every event
 * against the pasted key, warns when checking against the bundle's own key,
 * and shows a tampered record and another log's key as failures. The page is
 * also served at /verify-bundle.html. Skips when /usr/bin/chromium is absent
 * (apt-get install -y chromium).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { removeTempDirs, seedEvent, stele, tempDir } from './helpers.js';
import { startCollector, type Collector } from './sourcesProcess.js';
import { CHROMIUM, launchChromium } from './browser.js';

const hasChromium = existsSync(CHROMIUM);

if (!hasChromium) console.warn(`test/evidence-page.test.ts: skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('the offline evidence verifier page in Chromium', () => {
  let collector: Collector;
  let browser: Browser;
  let work: string;
  let verifierKey: string;
  let bundleText: string;

  beforeAll(async () => {
    work = tempDir('evidence-page');
    collector = await startCollector(join(work, 'data'));
    const auth = { authorization: `Bearer ${collector.adminToken}`, 'content-type': 'application/json' };
    const posted = await fetch(`${collector.url}/v1/events`, { method: 'POST', headers: auth, body: JSON.stringify(Array.from({ length: 12 }, (_, i) => seedEvent(i))) });
    expect(posted.status).toBe(201);
    verifierKey = ((await (await fetch(`${collector.url}/v1/log`, { headers: auth })).json()) as { verifierKey: string }).verifierKey;
    const bundle = await fetch(`${collector.url}/v1/evidence?source=emacs&limit=50`, { headers: auth });
    expect(bundle.ok).toBe(true);
    bundleText = JSON.stringify(await bundle.json(), null, 2);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await collector?.stop();
    removeTempDirs();
  });

  async function verifyInPage(page: Page, file: string, key: string): Promise<void> {
    await page.fill('#key', key);
    await page.setInputFiles('#bundle', file);
    await page.click('#verify');
    await page.waitForSelector('#result[data-verdict="verified"], #result[data-verdict="failed"]');
  }

  test('verify-bundle --html writes the page; from file:// it proves the bundle, warns on its own key, and fails a tampered one', async () => {
    const file = join(work, 'bundle.json');
    writeFileSync(file, bundleText);
    const html = join(work, 'verify-bundle.html');
    const cli = await stele(['verify-bundle', file, '--key', verifierKey, '--html', html]);
    expect(cli.code).toBe(0);
    expect(readFileSync(html, 'utf8')).toContain("default-src 'none'");
    const count = (JSON.parse(bundleText) as { events: unknown[] }).events.length;
    expect(count).toBeGreaterThan(0);

    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(html).href);

    await verifyInPage(page, file, verifierKey);
    expect(await page.getAttribute('#result', 'data-verdict')).toBe('verified');
    expect(await page.locator('#result tr[data-ok="true"]').count()).toBe(count);
    expect(await page.locator('#result .mark').innerText()).toContain(`all ${count} event`);
    expect(await page.locator('#result .warning').count()).toBe(0);

    // Without a pasted key: verified against the bundle's own key, with a warning.
    await verifyInPage(page, file, '');
    expect(await page.getAttribute('#result', 'data-verdict')).toBe('verified');
    expect(await page.locator('#result .warning').innerText()).toContain('key inside the bundle');

    // One byte of one record changed: that event is not proven.
    const at = bundleText.indexOf('"file.save"') + 2;
    const flipped = join(work, 'flipped.json');
    writeFileSync(flipped, bundleText.slice(0, at) + (bundleText[at] === 'f' ? 'F' : 'f') + bundleText.slice(at + 1));
    await verifyInPage(page, flipped, verifierKey);
    expect(await page.getAttribute('#result', 'data-verdict')).toBe('failed');
    expect(await page.locator('#result tr[data-ok="false"]').count()).toBe(1);
    expect(await page.locator('#result tr[data-ok="false"]').innerText()).toContain('ERR_LEAF');
    expect(await page.locator('#result .mark').innerText()).toContain('NOT VERIFIED');

    // Another log's key: the whole bundle is refused.
    await verifyInPage(page, file, 'example.com/other+12345678+AR3aB2rgSIRqWcVdiwUTMzKT8bTyL0O45iR9dFmpTk8v');
    expect(await page.getAttribute('#result', 'data-verdict')).toBe('failed');
    expect(await page.getAttribute('#result', 'data-code')).toMatch(/^ERR_/);

    expect(requests.every((u) => u.startsWith('file:'))).toBe(true);
    await page.close();
  });

  test('the page is served at /verify-bundle.html with a CSP that allows no request', async () => {
    const response = await fetch(`${collector.url}/verify-bundle.html`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await response.text()).toContain('<title>Stele evidence verifier</title>');
  });
});
