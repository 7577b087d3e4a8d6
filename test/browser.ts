import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, createReadToken, postEvents, removeTempDirs, tempDir } from './helpers.js';
import { startCollector, type Collector } from './sourcesProcess.js';

/** Where the browser tests leave their screenshots (kept by CI). */
const ARTIFACTS = join(ROOT, 'test-artifacts');

/** Debian's Chromium; the browser tests skip, saying so, where it is absent. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium as this machine needs it: no sandbox as root, and no
 * background networking, whose connections the closed network would refuse.
 * launch() gives every run a fresh, temporary profile of its own.
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page in a fresh browser profile (no pinned key, no token, nothing stored), 1280 × 800. */
export async function freshPage(browser: Browser, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 800 } });
  return context.newPage();
}

/** A full-page screenshot, kept as test-artifacts/console-NAME.png. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
}

/**
 * A fresh browser profile at the console served at `url`, signed in with
 * `token`, once the results table shows rows.
 */
export async function signIn(browser: Browser, url: string, token: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const page = await freshPage(browser, colorScheme);
  await page.goto(url + '/');
  await page.fill('#token', token);
  await page.click('form.token button');
  await page.waitForSelector('table.results tbody tr');
  return page;
}

/** A collector holding a seed, a read token for it, and Chromium: what a console test file drives. */
export interface SeededConsole {
  collector: Collector;
  browser: Browser;
  readToken: string;
}

/** Starts a collector in a temporary data directory named after `name`, appends `events`, and launches Chromium. */
export async function startSeededConsole(name: string, events: readonly unknown[]): Promise<SeededConsole> {
  const dir = join(tempDir(name), 'data');
  const collector = await startCollector(dir);
  const response = await postEvents(collector.url, collector.adminToken, events);
  if (response.status !== 201) throw new Error(`seeding the collector answered ${response.status}: ${await response.text()}`);
  return { collector, browser: await launchChromium(), readToken: await createReadToken(dir) };
}

/** Closes what startSeededConsole started (either may be missing when it failed half-way), and the temporary directories. */
export async function stopSeededConsole(started: Partial<SeededConsole>): Promise<void> {
  await started.browser?.close();
  await started.collector?.stop();
  removeTempDirs();
}
