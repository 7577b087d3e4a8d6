/**
 * The web console end to end: a real `stele serve` with seeded events from
 * several sources, driven in Debian's Chromium through playwright-core.
 * Search with the query language, open an event and see the Verified mark
 * the browser earned; serve a tampered proof, and a changed verifier key, and
 * see the mark refused. Export the search as CSV, JSON Lines, OCSF and an
 * evidence bundle that `stele verify-bundle` proves offline. Screenshots of the main views go to test-artifacts/
 * (not committed) for a person to judge. Skips when /usr/bin/chromium is
 * absent (apt-get install -y chromium).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { postEvents, seedEvent, stele, tempDir } from './helpers.js';
import type { Collector } from './sourcesProcess.js';
import { CHROMIUM, shot, signIn, startSeededConsole, stopSeededConsole } from './browser.js';

const hasChromium = existsSync(CHROMIUM);
const COUNT = 30;

if (!hasChromium) console.warn(`test/console.test.ts: skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('the console in Chromium', () => {
  let collector: Collector;
  let browser: Browser;
  let readToken: string;

  beforeAll(async () => {
    ({ collector, browser, readToken } = await startSeededConsole('console', Array.from({ length: COUNT }, (_, i) => seedEvent(i))));
  });

  afterAll(() => stopSeededConsole({ collector, browser }));

  /** A fresh browser profile (no pinned key, no token) signed in with the read token. */
  const signedIn = (colorScheme: 'light' | 'dark' = 'light') => signIn(browser, collector.url, readToken, colorScheme);

  test('searches with the query language, opens an event and earns the Verified mark', async () => {
    const page = await signedIn();
    expect(await page.locator('button.live').getAttribute('aria-pressed')).toBe('false');
    // The seeded events, the collector's start and the device gaps the seed's sequences leave.
    expect(await page.locator('table.results tbody tr').count()).toBeGreaterThan(COUNT);
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('q');
    await page.keyboard.type('actor:alice source:emacs');
    await page.keyboard.press('Enter');
    const expected = Array.from({ length: COUNT }, (_, i) => seedEvent(i)).filter((e) => e.source === 'emacs' && (e.actor as { id: string }).id === 'alice').length;
    await page.waitForFunction((n) => document.querySelectorAll('table.results tbody tr').length === n, expected);
    const rows = await page.locator('table.results tbody tr').allInnerTexts();
    for (const row of rows) expect(row).toMatch(/alice@example\.com.*emacs/s);
    expect(page.url()).toContain('#/?q=actor%3Aalice%20source%3Aemacs');
    await shot(page, 'search');

    // Live tail: a new matching event appears at the top without a reload.
    await page.click('button.live');
    await page.locator('button.live[aria-pressed="true"][data-open="true"]').waitFor();
    const live = { ...seedEvent(0), id: 'live-1', time: new Date().toISOString(), device: undefined };
    const posted = await postEvents(collector.url, collector.adminToken, live);
    expect(posted.status).toBe(201);
    await page.locator('table.results tbody tr[data-id="live-1"]').waitFor();
    expect(await page.locator('table.results tbody tr').first().getAttribute('data-id')).toBe('live-1');

    await page.locator('table.results tbody tr a').first().click();
    const mark = page.locator('.mark[data-verdict="verified"]');
    await mark.waitFor();
    expect(await mark.innerText()).toContain('Verified');
    expect(await mark.innerText()).toContain('pinned now');
    expect(await page.locator('dl.facts').innerText()).toContain('alice@example.com');
    await shot(page, 'event-verified');

    // A second event in the same profile: the pinned key and the last checkpoint are reused.
    await page.goto(`${collector.url}/#/event/seed-1`);
    await page.locator('.mark[data-verdict="verified"]').waitFor();
    expect(await page.locator('.mark').innerText()).not.toContain('pinned now');
    await page.context().close();
  });

  test('a tampered proof and a changed key are refused loudly', async () => {
    const page = await signedIn('dark');
    await shot(page, 'search-dark');
    await page.route('**/v1/events/seed-*', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { proof: string[] };
      const bytes = Buffer.from(body.proof[0]!, 'base64');
      bytes[0]! ^= 0x01;
      body.proof[0] = bytes.toString('base64');
      await route.fulfill({ response, json: body });
    });
    await page.goto(`${collector.url}/#/event/seed-4`);
    const failed = page.locator('.mark[data-verdict="failed"]');
    await failed.waitFor();
    expect(await failed.getAttribute('data-code')).toBe('ERR_INCLUSION');
    expect(await failed.innerText()).toContain('NOT VERIFIED');
    await shot(page, 'event-tampered');
    await page.unroute('**/v1/events/seed-*');

    // The server presents another verifier key than the one pinned on first use.
    await page.route('**/v1/log', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { verifierKey: string };
      await route.fulfill({ response, json: { ...body, verifierKey: 'example.com/other+12345678+AR3aB2rgSIRqWcVdiwUTMzKT8bTyL0O45iR9dFmpTk8v' } });
    });
    await page.goto(`${collector.url}/#/event/seed-5`);
    await page.locator('.mark[data-verdict="failed"]').waitFor();
    expect(await page.locator('.mark').getAttribute('data-code')).toBe('ERR_KEY_CHANGED');
    await page.context().close();
  });

  test('narrows by a facet, exports the search as CSV, JSON Lines, OCSF and an evidence bundle that verify-bundle proves', async () => {
    const page = await signedIn();
    // A facet narrows the search (test/console-search.test.ts checks its counts over a whole search).
    const emacsFacet = page.locator('.facet[data-facet="source"] a[data-value="emacs"]');
    expect(Number(await emacsFacet.locator('.count').innerText())).toBeGreaterThan(0);
    expect(await page.locator('.facet[data-facet="privileged"] li').count()).toBeGreaterThan(0);
    await emacsFacet.click();
    await page.waitForURL(/#\/\?q=source%3Aemacs$/);
    await page.waitForFunction(() => [...document.querySelectorAll('table.results tbody tr')].every((tr) => tr.textContent?.includes('emacs')));
    const download = async (format: string) => {
      const [file] = await Promise.all([page.waitForEvent('download'), page.click(`button.export[data-format="${format}"]`)]);
      const path = join(tempDir('console-export'), file.suggestedFilename());
      await file.saveAs(path);
      return { path, text: readFileSync(path, 'utf8') };
    };
    const emacs = Array.from({ length: COUNT }, (_, i) => seedEvent(i)).filter((e) => e.source === 'emacs').length;

    const csv = await download('csv');
    expect(csv.path).toMatch(/stele-events\.csv$/);
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]).toMatch(/^index,id,time,/);
    expect(lines.length - 1).toBeGreaterThanOrEqual(emacs);
    const jsonl = (await download('jsonl')).text.trimEnd().split('\n').map((l) => JSON.parse(l) as { source: string });
    expect(jsonl.length).toBe(lines.length - 1);
    expect(jsonl.every((e) => e.source === 'emacs')).toBe(true);
    const ocsf = (await download('ocsf')).text.trimEnd().split('\n').map((l) => JSON.parse(l) as { class_uid: number });
    expect(ocsf.length).toBe(jsonl.length);
    expect(ocsf.every((e) => typeof e.class_uid === 'number')).toBe(true);

    const bundle = await download('evidence');
    expect((JSON.parse(bundle.text) as { events: unknown[] }).events).toHaveLength(jsonl.length);
    const key = ((await (await fetch(`${collector.url}/v1/log`, { headers: { authorization: `Bearer ${readToken}` } })).json()) as { verifierKey: string }).verifierKey;
    const verified = await stele(['verify-bundle', bundle.path, '--key', key]);
    expect(verified.stdout).toMatch(/^ok: /);
    expect(verified.code).toBe(0);
    await shot(page, 'search-exports');
    await page.context().close();
  });
});
