import type { Browser } from 'playwright-core';

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
