/**
 * The console's search in Debian's Chromium against a real `stele serve`
 * holding 400 seeded events, one a second from 2025-06-02T12:00:00Z: facets
 * and the timeline count the whole search on the collector (four pages of
 * results, only the first loaded) and match the seed exactly; a click on a
 * facet refines the search; partial counts say so and can be completed; the
 * keyboard drives the search; a shared link restores the same view in
 * another browser; light and dark follow the system's preference.
 * Screenshots go to test-artifacts/ (not committed). Skips when
 * /usr/bin/chromium is absent (apt-get install -y chromium).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { SEED_EPOCH, seedEvent } from './helpers.js';
import type { Collector } from './sourcesProcess.js';
import { CHROMIUM, freshPage, shot, startSeededConsole, stopSeededConsole } from './browser.js';

const hasChromium = existsSync(CHROMIUM);
const COUNT = 400;
/** The hour the seed falls in: the collector's own events (collector.start, now) are outside it. */
const HOUR = `since:${new Date(SEED_EPOCH).toISOString()} until:${new Date(SEED_EPOCH + 3600_000).toISOString()}`;
const seeded = Array.from({ length: COUNT }, (_, i) => seedEvent(i));

if (!hasChromium) console.warn(`test/console-search.test.ts: skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

/** The seed's counts of one field, most first (ties by value), as the facets list them. */
function countsOf(value: (e: Record<string, unknown>) => string, events = seeded): [string, number][] {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(value(e), (counts.get(value(e)) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

const email = (e: Record<string, unknown>) => (e.actor as { email: string }).email;

describe.skipIf(!hasChromium)('the console search in Chromium', () => {
  let collector: Collector;
  let browser: Browser;
  let readToken: string;

  beforeAll(async () => {
    // No device sequences: the collector adds no stele.gap events, so the hour holds the seed alone.
    ({ collector, browser, readToken } = await startSeededConsole('console-search', seeded.map((e) => ({ ...e, device: undefined }))));
  });

  afterAll(() => stopSeededConsole({ collector, browser }));

  /** A fresh browser profile opened at `path` (a shared link), signed in there with the read token. */
  async function openLink(path: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
    const page = await freshPage(browser, colorScheme);
    await page.goto(collector.url + path);
    await page.fill('#token', readToken);
    await page.click('form.token button[type="submit"]');
    return page;
  }

  /** The facet's values and counts as shown. */
  const facet = (page: Page, name: string) =>
    page.locator(`.facet[data-facet="${name}"] li [data-value]`).evaluateAll((items) => items.map((i) => [(i as HTMLElement).dataset.value!, Number(i.querySelector('.count')!.textContent!.replace(/,/g, ''))] as [string, number]));

  test('facets and the timeline count the whole search, match the seed, and a click refines the search', async () => {
    // A shared link, opened in a browser that has never seen the console: after the token, the same search.
    const page = await openLink(`/#/?q=${encodeURIComponent(HOUR)}`);
    await page.locator('.facets[data-complete="true"]').waitFor();
    expect(await page.inputValue('#q')).toBe(HOUR);
    expect(await page.locator('table.results tbody tr').count()).toBe(100); // one page loaded of four
    expect(await page.locator('.bar .status .shown').innerText()).toBe(`100 of ${COUNT} events`);
    expect(await page.locator('.facets-scope').innerText()).toBe(`Counted over all ${COUNT} matching events.`);

    expect(await facet(page, 'source')).toEqual(countsOf((e) => e.source as string));
    expect(await facet(page, 'actor')).toEqual(countsOf(email));
    expect(await facet(page, 'outcome')).toEqual(countsOf((e) => e.outcome as string));
    expect(await facet(page, 'action')).toEqual(countsOf((e) => e.action as string));
    expect(await facet(page, 'privileged')).toEqual([['no', COUNT]]);

    // The timeline spans the hour asked for, a bucket a minute: 60 events in each of the first six, 40 in the seventh.
    const bars = await page.locator('.timeline .tbar').evaluateAll((b) => b.map((x) => Number((x as HTMLElement).dataset.count)));
    expect(bars).toEqual([60, 60, 60, 60, 60, 60, 40, ...new Array(53).fill(0)]);
    expect(await page.locator('.timeline .taxis').innerText()).toContain('per 1m · max 60');
    await shot(page, 'search-facets');

    // A click narrows the search to bob; the counts follow.
    await page.click('.facet[data-facet="actor"] a[data-value="bob@example.com"]');
    await page.waitForURL(/#\/\?q=actor%3Abob%40example\.com%20since/);
    await page.waitForFunction(() => document.querySelectorAll('.facet[data-facet="actor"] li [data-value]').length === 1);
    const bob = seeded.filter((e) => email(e) === 'bob@example.com');
    expect(await facet(page, 'actor')).toEqual([['bob@example.com', bob.length]]);
    expect(await facet(page, 'source')).toEqual(countsOf((e) => e.source as string, bob));
    expect(await page.locator('.bar .status .shown').innerText()).toBe(`100 of ${bob.length} events`);
    for (const row of await page.locator('table.results tbody tr').allInnerTexts()) expect(row).toContain('bob@example.com');
    await page.context().close();
  });

  test('partial counts say so, mark the time they do not reach, and can be completed', async () => {
    const page = await freshPage(browser);
    // The collector answers what it is asked: here a first count of the newest 50 matches only.
    const asked: string[] = [];
    await page.route('**/v1/events/facets?*', (route) => {
      const url = new URL(route.request().url());
      if (!url.searchParams.has('scan')) url.searchParams.set('scan', '50');
      asked.push(url.searchParams.get('scan')!);
      return route.continue({ url: url.href });
    });
    await page.goto(`${collector.url}/#/?q=${encodeURIComponent(HOUR)}`);
    await page.fill('#token', readToken);
    await page.click('form.token button[type="submit"]');
    await page.locator('.facets[data-complete="false"]').waitFor();
    expect(await page.locator('.facets-scope.partial').innerText()).toMatch(/^Partial: counted over the newest 50 matching events \(back to 2025-06-02 12:05:50Z\); there are more\./);
    expect((await facet(page, 'source')).reduce((n, [, c]) => n + c, 0)).toBe(50);
    // The newest 50 reach back to 12:05:50: the five minutes before are drawn as not counted.
    expect(await page.locator('.timeline .tbar.unknown').count()).toBe(5);
    expect(await page.locator('.timeline .taxis').innerText()).toContain('partial');
    expect(await page.locator('.bar .status .shown').innerText()).toBe('100+ events');
    await shot(page, 'search-facets-partial');

    await page.click('.facets-scope button.count-more');
    await page.locator('.facets[data-complete="true"]').waitFor();
    expect(asked).toEqual(['50', '100000']);
    expect(await facet(page, 'source')).toEqual(countsOf((e) => e.source as string));
    expect(await page.locator('.timeline .tbar.unknown').count()).toBe(0);
    await page.context().close();
  });

  test('the keyboard drives the search: / focuses it, typing searches, Escape goes to the rows, j and k walk, Enter opens', async () => {
    const page = await openLink('/');
    await page.waitForSelector('table.results tbody tr');
    await page.locator('main').click({ position: { x: 5, y: 5 } }); // focus somewhere that is not an input
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('q');
    // Results follow the typing: no Enter needed.
    await page.keyboard.type(`source:git ${HOUR}`);
    await page.waitForURL(/#\/\?q=source%3Agit/);
    const git = seeded.filter((e) => e.source === 'git').length;
    await page.waitForFunction((n) => document.querySelector('.bar .status .shown')?.textContent === `100 of ${n} events`, git);
    // In the box, / is a character like any other.
    await page.keyboard.press('/');
    expect(await page.inputValue('#q')).toBe(`source:git ${HOUR}/`);
    await page.keyboard.press('Backspace');
    await page.keyboard.press('Escape');
    const focused = () => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.id);
    const ids = await page.locator('table.results tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.id));
    expect(await focused()).toBe(ids[0]);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    expect(await focused()).toBe(ids[2]);
    await page.keyboard.press('k');
    expect(await focused()).toBe(ids[1]);
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`#/event/${ids[1]}$`));
    await page.locator('.mark[data-verdict="verified"]').waitFor();
    // Back is the same search again.
    await page.goBack();
    await page.waitForFunction((n) => document.querySelector('.bar .status .shown')?.textContent === `100 of ${n} events`, git);
    expect(await page.inputValue('#q')).toBe(`source:git ${HOUR}`);
    await page.context().close();
  });

  test('a click on a row opens its event', async () => {
    const page = await openLink('/');
    const row = page.locator('table.results tbody tr[data-id]').nth(2);
    const id = await row.getAttribute('data-id');
    await row.locator('td.time').click();
    await page.waitForURL(new RegExp(`#/event/${id}$`));
    await page.locator('.mark[data-verdict="verified"]').waitFor();
    await page.context().close();
  });

  test('a shared link to an event opens that event in another browser', async () => {
    const page = await openLink('/#/event/seed-7');
    await page.locator('.mark[data-verdict="verified"]').waitFor();
    expect(await page.locator('dl.facts').innerText()).toContain(email(seeded[7]!));
    await page.context().close();
  });

  test('light and dark follow the system preference', async () => {
    const colors: Record<string, { background: string; color: string }> = {};
    for (const scheme of ['light', 'dark'] as const) {
      const page = await openLink(`/#/?q=${encodeURIComponent(HOUR)}`, scheme);
      await page.locator('.facets[data-complete="true"]').waitFor();
      colors[scheme] = await page.evaluate(() => ({ background: getComputedStyle(document.body).backgroundColor, color: getComputedStyle(document.body).color }));
      await shot(page, `search-${scheme}`);
      await page.click('table.results tbody tr a');
      await page.locator('.mark[data-verdict="verified"]').waitFor();
      await shot(page, `event-${scheme}`);
      await page.context().close();
    }
    expect(colors.light).toEqual({ background: 'rgb(251, 251, 250)', color: 'rgb(29, 31, 33)' });
    expect(colors.dark).toEqual({ background: 'rgb(22, 24, 27)', color: 'rgb(227, 228, 230)' });
  });
});
