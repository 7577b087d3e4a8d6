/**
 * The console's results on a phone (390 × 844), in Debian's Chromium against
 * a real `stele serve`: the time column shrinks to its date over its clock,
 * actor, action and target get the room, and a value longer than its column
 * is never cut sideways: it wraps to two lines, then ends in an ellipsis,
 * and the cell's title holds all of it. At 1280 × 800 the table reads as
 * before, a line a row. Screenshots go to test-artifacts/ (not committed).
 * Skips when /usr/bin/chromium is absent (apt-get install -y chromium).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { SEED_EPOCH, seedEvent } from './helpers.js';
import type { Collector } from './sourcesProcess.js';
import { CHROMIUM, freshPage, shot, startSeededConsole, stopSeededConsole } from './browser.js';

const hasChromium = existsSync(CHROMIUM);
/** The hour the seed falls in: the collector's own events are outside it. */
const HOUR = `since:${new Date(SEED_EPOCH).toISOString()} until:${new Date(SEED_EPOCH + 3600_000).toISOString()}`;

type Seeded = Record<string, unknown> & { id: string; action: string; actor: { email: string }; target: { type: string; id: string; name?: string } };

/** Values of every length: the usual seed, three too long for a phone's column, and one short in every column. */
const seeded = [
  ...Array.from({ length: 12 }, (_, i) => ({ ...seedEvent(i), device: undefined })),
  {
    ...seedEvent(12),
    id: 'long-target',
    device: undefined,
    target: { type: 'file', id: '/home/alice/src/stele/packages/web/src/searchView.ts', name: 'packages/web/src/a-file-name-far-too-long-for-a-phone.ts' },
  },
  { ...seedEvent(13), id: 'long-actor', device: undefined, actor: { id: 'alexandra', email: 'alexandra.konstantinopoulou@subsidiary.example.com' } },
  { ...seedEvent(14), id: 'long-action', device: undefined, action: 'kubernetes.deployment.rollout-restart' },
  // Every value a line: the row is as high as the others all the same.
  { ...seedEvent(15), id: 'short', device: undefined, actor: { id: 'ed', email: 'ed@ex.io' }, action: 'x.y', target: { type: 'file', id: '/a', name: 'a' } },
] as Seeded[];

/** The full values of a row's actor, action and target cells, as the console writes them. */
const fullValues = (e: Seeded): string[] => [e.actor.email, e.action, `${e.target.type} ${e.target.name ?? e.target.id}`];

if (!hasChromium) console.warn(`test/console-narrow.test.ts: skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('the console results on a narrow screen, in Chromium', () => {
  let collector: Collector;
  let browser: Browser;
  let readToken: string;

  beforeAll(async () => {
    ({ collector, browser, readToken } = await startSeededConsole('console-narrow', seeded));
  });

  afterAll(() => stopSeededConsole({ collector, browser }));

  test('on a phone the time is compact, and actor, action and target are shown whole or ellipsized with the full value in the title', async () => {
    const page = await freshPage(browser);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${collector.url}/#/?q=${encodeURIComponent(HOUR)}`);
    await page.fill('#token', readToken);
    await page.click('form.token button[type="submit"]');
    await page.waitForFunction((n) => document.querySelectorAll('table.results tbody tr[data-id]').length === n, seeded.length);

    const layout = await page.locator('table.results').evaluate((table) => ({
      width: table.getBoundingClientRect().width,
      columns: [...table.querySelectorAll<HTMLElement>('thead th')].filter((th) => th.offsetParent !== null).map((th) => ({ text: th.textContent, width: th.getBoundingClientRect().width })),
    }));
    expect(layout.columns.map((c) => c.text)).toEqual(['time (UTC)', 'actor', 'action', 'target']);
    const [time, , , target] = layout.columns;
    // The time took nearly half the table (175 of 366 px); now a quarter at most, and the target no less.
    expect(time!.width).toBeLessThanOrEqual(layout.width * 0.25);
    expect(target!.width).toBeGreaterThanOrEqual(time!.width);

    const rows = await page.locator('table.results tbody tr[data-id]').evaluateAll((trs) =>
      trs.map((tr) => {
        const [time, ...cells] = [...tr.querySelectorAll<HTMLElement>('td')];
        const [date, clock] = [time!.querySelector('.date'), time!.querySelector('.clock')].map((el) => el?.getBoundingClientRect());
        return {
          id: (tr as HTMLElement).dataset.id!,
          height: tr.getBoundingClientRect().height,
          stacked: date !== undefined && clock !== undefined && date.bottom <= clock.top,
          cells: cells.slice(0, 3).map((td) => {
            const value = td.querySelector<HTMLElement>('.fit') ?? td;
            return {
              title: td.title,
              // Cut sideways: wider inside than it shows, mid-glyph with no mark.
              cutSideways: td.scrollWidth > td.clientWidth || value.scrollWidth > value.clientWidth,
              // Taller inside than it shows: the rest must be marked by the ellipsis of a line clamp.
              clamped: value.scrollHeight > value.clientHeight,
              lineClamp: getComputedStyle(value).getPropertyValue('-webkit-line-clamp'),
            };
          }),
        };
      }),
    );
    const byId = new Map(seeded.map((e) => [e.id, e]));
    for (const row of rows) {
      expect(row.stacked, `${row.id}: the date over the clock`).toBe(true);
      expect(row.cells.map((c) => c.title), row.id).toEqual(fullValues(byId.get(row.id)!));
      for (const cell of row.cells) {
        expect(cell.cutSideways, `${row.id}: ${cell.title}`).toBe(false);
        if (cell.clamped) expect(cell.lineClamp, `${row.id}: ${cell.title}`).toBe('2');
      }
    }
    // The long values are the ones ellipsized; the usual ones fit whole.
    const clamped = rows.flatMap((r) => r.cells.filter((c) => c.clamped).map((c) => c.title));
    expect(clamped).toContain('file packages/web/src/a-file-name-far-too-long-for-a-phone.ts');
    expect(clamped).toContain('alexandra.konstantinopoulou@subsidiary.example.com');
    expect(clamped).not.toContain('bob@example.com');
    // One height for every row: the windowed table measures one and takes it for all.
    expect(new Set(rows.map((r) => Math.round(r.height))).size).toBe(1);
    await shot(page, 'search-phone');

    // On a wide screen the table is as it was: the time on one line, 175 px wide, every row one height.
    await page.setViewportSize({ width: 1280, height: 800 });
    const wide = await page.locator('table.results tbody tr[data-id]').evaluateAll((trs) =>
      trs.map((tr) => {
        const time = tr.querySelector<HTMLElement>('td.time')!;
        return { text: time.innerText, width: time.getBoundingClientRect().width, height: Math.round(tr.getBoundingClientRect().height) };
      }),
    );
    for (const row of wide) {
      expect(row.text).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      expect(row.width).toBe(175);
    }
    expect(new Set(wide.map((r) => r.height)).size).toBe(1);
    await shot(page, 'search-wide');
    await page.context().close();
  });
});
