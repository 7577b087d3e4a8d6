/**
 * The console's coverage page and timeline, end to end in Debian's Chromium
 * against a real `stele serve`: a device skips a sequence number, the
 * collector records a stele.gap, and `#/coverage` shows the device with its
 * gap highlighted; the search page draws a histogram of the whole search.
 * Skips when /usr/bin/chromium is absent (apt-get install -y chromium).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { createReadToken, postEvents, removeTempDirs, seedEvent, tempDir } from './helpers.js';
import { startCollector, type Collector } from './sourcesProcess.js';
import { CHROMIUM, freshPage, launchChromium, shot, signIn } from './browser.js';

const hasChromium = existsSync(CHROMIUM);
const DEVICE = 'emacs-gappy';
const BULK = 600;

if (!hasChromium) console.warn(`test/console-coverage.test.ts: skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('the console coverage page in Chromium', () => {
  let collector: Collector;
  let browser: Browser;
  let readToken: string;

  const post = async (events: unknown[]) => {
    const response = await postEvents(collector.url, collector.adminToken, events);
    expect(response.status).toBe(201);
  };

  beforeAll(async () => {
    const dir = join(tempDir('console-coverage'), 'data');
    collector = await startCollector(dir);
    // One device sends 1, 2, then 4: number 3 is missing, a stele.gap.
    const now = Date.now();
    await post([1, 2].map((seq) => ({ ...seedEvent(seq), id: `gappy-${seq}`, time: new Date(now - (5 - seq) * 1000).toISOString(), device: { id: DEVICE, seq } })));
    await post([{ ...seedEvent(4), id: 'gappy-4', time: new Date(now).toISOString(), device: { id: DEVICE, seq: 4 } }]);
    // Enough rows, without devices, for the results table to render only those in view.
    await post(Array.from({ length: BULK }, (_, i) => ({ ...seedEvent(10 + i), device: undefined })));
    // A device with no gap.
    await post([{ ...seedEvent(0), id: 'quiet-1', time: new Date(now - 3_600_000).toISOString(), device: { id: 'git-quiet', seq: 1 } }]);
    readToken = await createReadToken(dir);
    // The collector follows the log after each commit: wait for the gap to be counted.
    for (let i = 0; ; i++) {
      const body = (await (await fetch(`${collector.url}/v1/devices`, { headers: { authorization: `Bearer ${readToken}` } })).json()) as { devices: { id: string; gaps: number }[] };
      if (body.devices.find((d) => d.id === DEVICE)?.gaps) break;
      if (i > 100) throw new Error(`the collector never counted the gap: ${JSON.stringify(body)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await collector?.stop();
    removeTempDirs();
  });

  const signedIn = () => signIn(browser, collector.url, readToken);

  test('the search page draws a timeline of the whole search, not only the rows shown', async () => {
    const page = await signedIn();
    await page.locator('.facets[data-complete="true"]').waitFor();
    await page.locator('.timeline .tbar').first().waitFor();
    const counts = await page.locator('.timeline .tbar').evaluateAll((bars) => bars.map((b) => Number((b as HTMLElement).dataset.count)));
    const rows = await page.locator('table.results tbody tr').count();
    // Every event of the log matches the empty search: the bars add up to the log's size, past the first page.
    const size = ((await (await fetch(`${collector.url}/v1/log`, { headers: { authorization: `Bearer ${readToken}` } })).json()) as { size: number }).size;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(size);
    expect(size).toBeGreaterThan(rows);
    expect(await page.locator('.bar .status').innerText()).toMatch(new RegExp(`^${rows} of ${size} events`));
    expect(await page.locator('.timeline .taxis').innerText()).toMatch(/per \d+[smhd]/);
    await shot(page, 'timeline');
    await page.context().close();
  });

  test('past 500 rows the results table renders only the rows in view', async () => {
    const page = await signedIn();
    const data = 'table.results tbody tr:not(.spacer)';
    while (await page.locator('button.more').count()) {
      const before = parseInt(await page.locator('.bar .status').innerText(), 10);
      await page.click('button.more');
      await page.waitForFunction((n) => parseInt(document.querySelector('.bar .status')?.textContent ?? '', 10) > n, before);
    }
    const total = Number((await page.locator('.bar .status').innerText()).match(/^(\d+)/)![1]);
    expect(total).toBeGreaterThan(BULK);
    expect(await page.locator(data).count()).toBeLessThan(200);
    expect(await page.locator('table.results tbody tr.spacer').count()).toBe(2);
    // The timeline counts the whole search: every row, once all are loaded.
    const counts = await page.locator('.timeline .tbar').evaluateAll((bars) => bars.map((b) => Number((b as HTMLElement).dataset.count)));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
    // Scrolled to the end, the last rows are drawn.
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.waitForFunction((n) => document.querySelector(`table.results tbody tr[data-index="${n - 1}"]`) !== null, total);
    expect(await page.locator(data).count()).toBeLessThan(200);
    // The keyboard walks past the rendered rows.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForFunction(() => document.querySelector('table.results tbody tr[data-index="0"]') !== null);
    await page.locator('table.results tbody tr[data-index="0"]').focus();
    for (let i = 0; i < 120; i++) await page.keyboard.press('j');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.index)).toBe('120');
    await page.context().close();
  });

  test('the coverage page lists every device and highlights the gap', async () => {
    const page = await signedIn();
    // The collector dates lastSeen by arrival: twenty minutes on, every device is silent.
    await page.clock.setFixedTime(Date.now() + 20 * 60_000);
    await page.click('header a.nav[href="#/coverage"]');
    await page.waitForURL(/#\/coverage$/);
    const gappy = page.locator(`table.coverage tr[data-device="${DEVICE}"]`);
    await gappy.waitFor();
    expect(await gappy.getAttribute('data-state')).toBe('gap');
    expect(await gappy.locator('td.gaps').innerText()).toBe('1');
    const cells = await gappy.locator('td').allInnerTexts();
    expect(cells[1]).toContain('@example.com');
    expect(cells[4]).toBe('4'); // last sequence number
    const quiet = page.locator('table.coverage tr[data-device="git-quiet"]');
    expect(await quiet.getAttribute('data-state')).toBe('silent');
    expect(await quiet.locator('td.age').innerText()).toContain('silent');
    expect(await gappy.locator('td.age').innerText()).toContain('silent');
    // Gaps first.
    expect(await page.locator('table.coverage tbody tr').first().getAttribute('data-device')).toBe(DEVICE);
    expect(await page.locator('main .status').innerText()).toMatch(/2 devices · 1 gap · 2 silent/);
    await shot(page, 'coverage');

    // The gap count links to the stele.gap events.
    await gappy.locator('td.gaps a').click();
    await page.waitForURL(/#\/\?q=action%3Astele\.gap/);
    await page.waitForSelector('table.results tbody tr');
    for (const row of await page.locator('table.results tbody tr').allInnerTexts()) expect(row).toContain('stele.gap');
    await page.context().close();
  });

  test('the search box shows the search the URL holds: none on Coverage, the query again on Back, and typing there searches', async () => {
    const page = await signedIn();
    await page.fill('#q', 'action:stele.gap');
    await page.press('#q', 'Enter');
    await page.waitForURL(/#\/\?q=action%3Astele\.gap$/);
    await page.waitForFunction(() => document.querySelector('table.events tbody tr')?.textContent?.includes('stele.gap'));
    // Coverage uses no query: the box is empty (its placeholder shows), not the last search.
    await page.click('header a.nav[href="#/coverage"]');
    await page.locator(`table.coverage tr[data-device="${DEVICE}"]`).waitFor();
    expect(await page.inputValue('#q')).toBe('');
    // Back is the search again, in the box too.
    await page.goBack();
    await page.waitForURL(/#\/\?q=action%3Astele\.gap$/);
    await page.waitForSelector('table.events tbody tr');
    expect(await page.inputValue('#q')).toBe('action:stele.gap');
    // From Coverage, typing in the box runs the search and shows its results.
    await page.click('header a.nav[href="#/coverage"]');
    await page.locator(`table.coverage tr[data-device="${DEVICE}"]`).waitFor();
    await page.click('#q');
    await page.keyboard.type('source:git');
    await page.waitForURL(/#\/\?q=source%3Agit$/);
    await page.waitForFunction(() => document.querySelector('table.events tbody tr')?.textContent?.includes('git'));
    expect(await page.inputValue('#q')).toBe('source:git');
    // Back while the box still has the focus: the box follows the URL, not the search it sent.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('q');
    await page.goBack();
    await page.waitForURL(/#\/coverage$/);
    await page.locator(`table.coverage tr[data-device="${DEVICE}"]`).waitFor();
    expect(await page.inputValue('#q')).toBe('');
    await page.context().close();
  });

  test('without an identity provider, the sign-in page asks for a token, not for one "or" the other', async () => {
    const page = await freshPage(browser);
    // Once the providers are known (none here).
    const config = page.waitForResponse((r) => r.url().endsWith('/v1/auth/config'));
    await page.goto(collector.url + '/');
    await (await config).finished();
    await page.locator('#token').waitFor();
    expect(await page.locator('button.signin').count()).toBe(0);
    expect(await page.locator('form.token p.paste').innerText()).toMatch(/^Paste an API token with scope read/);
    await page.context().close();
  });

  test('the coverage page shows whole device ids, users and times where there is room', async () => {
    const page = await signedIn();
    await page.click('header a.nav[href="#/coverage"]');
    await page.locator(`table.coverage tr[data-device="${DEVICE}"]`).waitFor();
    // A cell cut short (an ellipsis) is wider inside than it shows.
    const cut = await page.locator('table.coverage tbody td').evaluateAll((cells) =>
      cells.filter((c) => c.scrollWidth > c.clientWidth).map((c) => c.textContent),
    );
    expect(cut).toEqual([]);
    await page.context().close();
  });

  test('on a narrow screen the search box keeps a line of its own and the columns of the results do not overlap', async () => {
    const page = await signedIn();
    await page.setViewportSize({ width: 420, height: 800 });
    const box = (await page.locator('#q').boundingBox())!;
    expect(box.width).toBeGreaterThan(300);
    const headers = await page.locator('table.results thead th').evaluateAll((ths) =>
      ths.filter((th) => (th as HTMLElement).offsetParent !== null).map((th) => {
        const r = th.getBoundingClientRect();
        return { text: th.textContent, left: r.left, right: r.right, fits: th.scrollWidth <= th.clientWidth };
      }),
    );
    // Time, actor, action and target stay; each header fits its column and the next starts where it ends.
    expect(headers.map((h) => h.text)).toEqual(['time (UTC)', 'actor', 'action', 'target']);
    for (const h of headers) expect(h.fits, h.text ?? '').toBe(true);
    for (let i = 1; i < headers.length; i++) expect(headers[i]!.left).toBeGreaterThanOrEqual(headers[i - 1]!.right - 1);
    await shot(page, 'narrow');
    await page.context().close();
  });
});
