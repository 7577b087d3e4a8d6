/**
 * The console warns on every page when the collector's own check of its log
 * failed (integrity.ts): `stele serve` checking every second, Debian's
 * Chromium signed in with a read token, then one entry of the SQLite file
 * edited underneath the collector. Before, no banner; after, a banner under
 * the header naming the entry and the code, on the search page and on an
 * event's page. The screenshot goes to test-artifacts/ (not committed).
 * Skips when /usr/bin/chromium is absent (apt-get install -y chromium).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium, shot, signIn } from './browser.js';
import { createReadToken, postEvents, removeTempDirs, seedEvent, tamper, tempDir } from './helpers.js';
import { startCollector, type Collector } from './sourcesProcess.js';

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`test/console-integrity.test.ts: skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)("the console shows a failed check of the log, in Chromium", () => {
  let collector: Collector | undefined;
  let browser: Browser | undefined;
  afterAll(async () => {
    await browser?.close();
    await collector?.stop();
    removeTempDirs();
  });

  test('no banner while the log verifies; a banner naming the entry and the code once an entry is edited', async () => {
    const dir = join(tempDir('console-integrity'), 'data');
    collector = await startCollector(dir, { env: { STELE_VERIFY_EVERY_SECONDS: '1' } });
    const c = collector;
    expect((await postEvents(c.url, c.adminToken, Array.from({ length: 20 }, (_, i) => seedEvent(i)))).status).toBe(201);
    const selfCheck = async () =>
      ((await (await fetch(`${c.url}/v1/log`, { headers: { authorization: `Bearer ${c.adminToken}` } })).json()) as { selfCheck: { ok: boolean } | null }).selfCheck;
    const waitFor = async (done: (s: { ok: boolean } | null) => boolean) => {
      for (let tries = 0; !done(await selfCheck()); tries++) {
        if (tries > 200) throw new Error('the self-check did not come');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await waitFor((s) => s !== null && s.ok);
    browser = await launchChromium();
    const page = await signIn(browser, c.url, await createReadToken(dir));
    expect(await page.locator('#integrity').count()).toBe(0);

    // The entry of seed-5 (the collector's own start events come first) gets another action.
    let index = -1;
    tamper(dir, (db) => {
      const row = db.prepare("SELECT idx, data FROM entries WHERE id = 'seed-5'").get() as { idx: number; data: Buffer };
      const data = Buffer.from(row.data);
      data[data.indexOf('"action":"') + 10] ^= 0x20;
      db.prepare('UPDATE entries SET data = ? WHERE idx = ?').run(data, row.idx);
      index = row.idx;
    });
    await waitFor((s) => s !== null && !s.ok);

    // A new page asks again: the search page, then an event's page.
    await page.goto(`${c.url}/#/?q=${encodeURIComponent('actor:alice@example.com')}`);
    const banner = page.locator('#integrity[role="alert"]');
    await banner.waitFor();
    expect(await banner.getAttribute('data-code')).toBe('ERR_LEAF_HASH_MISMATCH');
    expect(await banner.textContent()).toMatch(new RegExp(`^This log does not verify at entry ${index}: the collector's check of \\S+ found ERR_LEAF_HASH_MISMATCH: `));
    await shot(page, 'integrity');
    await page.goto(`${c.url}/#/event/seed-0`);
    await page.waitForSelector('.mark');
    expect(await page.locator('#integrity').count()).toBe(1);
  });
});
