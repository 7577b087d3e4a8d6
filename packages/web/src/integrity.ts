/**
 * A banner under the header while the collector's last check of its own log
 * failed (`GET /v1/log`'s `selfCheck`, docs/CONFIG.md): whoever searches the
 * log is told, on every page, that what they read no longer verifies. Asked
 * again on each page and every minute; gone once a check holds again.
 */
import { fetchSelfCheck, token, type SelfCheck } from './api.js';
import { h } from './dom.js';

/** How often the banner asks again while the console is open. */
const EVERY_MS = 60_000;

/** What the banner says of a failed check. */
export function selfCheckText(check: Extract<SelfCheck, { ok: false }>): string {
  if (check.code === 'ERR_SELF_CHECK') return `The collector could not check this log (${check.finished}): ${check.message}`;
  const where = check.index === null || check.index === undefined ? '' : ` at entry ${check.index}`;
  return `This log does not verify${where}: the collector's check of ${check.finished} found ${check.code}: ${check.message}. Run stele verify on its data directory, against a checkpoint kept elsewhere.`;
}

/** Shows or removes the banner after asking the collector. */
export async function showSelfCheck(): Promise<void> {
  const check = token.get() ? await fetchSelfCheck().catch(() => null) : null;
  const banner = document.querySelector('#integrity');
  if (!check || check.ok) {
    banner?.remove();
    return;
  }
  const next = h('p.integrity', { id: 'integrity', role: 'alert', 'data-code': check.code }, selfCheckText(check));
  if (banner) banner.replaceWith(next);
  else document.querySelector('header')!.after(next);
}

/** Asks on every page the console goes to and every minute (showWho asks after signing in). */
export function watchSelfCheck(): void {
  window.addEventListener('hashchange', () => void showSelfCheck());
  setInterval(() => void showSelfCheck(), EVERY_MS);
}
