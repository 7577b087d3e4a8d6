/**
 * Managing devices in the console, end to end in Debian's Chromium against a
 * real `stele serve` and a real OpenID provider on loopback (as in
 * console-signin.test.ts):
 *
 * - an admin (alice, group stele-admins) retires a device from the admin
 *   page: the dialog asks for a reason and refuses to go on without one, a
 *   cancelled dialog changes nothing; confirmed, the coverage page shows the
 *   device retired (by alice, with the reason) and no longer silent, and the
 *   log holds `device.retire` with alice as the verified actor;
 * - the retired device reports again: the log records `stele.retired-report`
 *   and coverage puts the device first, flagged;
 * - a reader (bob, group auditors) sees the retired device on the coverage
 *   page and no action button anywhere; the admin page and the API refuse him.
 *
 * Screenshots go to test-artifacts/ (not committed). Skips when
 * /usr/bin/chromium is absent (apt-get install -y chromium).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startProvider, writeCollectorConfig, type TestProvider } from './oidcProvider.js';
import { freePort, removeTempDirs, tempDir } from './helpers.js';
import { startCollector, type Collector } from './sourcesProcess.js';
import { CHROMIUM, freshPage, launchChromium, shot } from './browser.js';

const hasChromium = existsSync(CHROMIUM);
const LAPTOP = 'laptop-4411';
const KIOSK = 'kiosk-lobby';
const REASON = 'Wiped and sent for recycling (asset 4411, INC-311)';

if (!hasChromium) console.warn(`test/console-devices.test.ts: skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

interface ListedDevice {
  id: string;
  retired?: { by: { email?: string; id?: string }; reason: string; reports: number };
}

describe.skipIf(!hasChromium)('managing devices in the console, in Chromium', () => {
  let provider: TestProvider;
  let collector: Collector;
  let browser: Browser;
  let origin: string;

  const api = async (path: string, init: RequestInit = {}, token = collector.adminToken) =>
    fetch(`${origin}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });
  const post = async (events: unknown[]) => expect((await api('/v1/events', { method: 'POST', body: JSON.stringify(events) })).status).toBe(201);
  const deviceEvent = (device: string, seq: number) => ({
    id: `${device}/${seq}`,
    source: 'emacs',
    action: 'file.save',
    actor: { id: 'ada', email: 'ada@example.com' },
    target: { type: 'file', id: `/home/ada/notes-${seq}.org` },
    device: { id: device, seq },
  });
  const devices = async () => ((await (await api('/v1/devices')).json()) as { devices: ListedDevice[] }).devices;
  /** Polls GET /v1/devices until `check` holds (the collector checks commits 50 ms apart). */
  async function until(check: (devices: ListedDevice[]) => boolean): Promise<void> {
    for (let i = 0; ; i++) {
      const listed = await devices();
      if (check(listed)) return;
      if (i > 100) throw new Error(`the devices never got there: ${JSON.stringify(listed)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    provider = await startProvider({ redirectUris: [`${origin}/`] });
    const config = join(tempDir('console-devices-config'), 'stele.json');
    writeCollectorConfig(config, provider);
    collector = await startCollector(join(tempDir('console-devices'), 'data'), { port, args: ['--config', config] });
    await post([1, 2, 3].map((seq) => deviceEvent(LAPTOP, seq)));
    await post([1, 2].map((seq) => deviceEvent(KIOSK, seq)));
    await until((listed) => listed.length === 2);
    // The kiosk is retired through the API with the bootstrap token, for the reader's view.
    const retired = await api(`/v1/admin/devices/${KIOSK}/retire`, { method: 'POST', body: JSON.stringify({ reason: 'lobby kiosk removed' }) });
    expect(retired.status).toBe(200);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await collector?.stop();
    await provider?.close();
    removeTempDirs();
  });

  /** A fresh profile, signed in as `user` through the provider's own pages. */
  async function signedIn(user: string): Promise<Page> {
    const page = await freshPage(browser);
    await page.goto(`${origin}/`);
    await page.locator('button.signin[data-issuer="testidp"]').click();
    await page.waitForURL((url) => url.origin === provider.issuer);
    await page.locator('input[name="login"]').fill(user);
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.locator('button:has-text("Continue")').click();
    await page.waitForURL((url) => url.origin === origin);
    await page.locator('header .who').waitFor();
    return page;
  }
  /** A fresh profile with an API token pasted. */
  async function withToken(token: string): Promise<Page> {
    const page = await freshPage(browser);
    await page.goto(`${origin}/`);
    await page.fill('#token', token);
    await page.click('form.token button[type="submit"]');
    await page.locator('header .who').waitFor();
    return page;
  }
  const accessToken = (page: Page) => page.evaluate(() => (JSON.parse(sessionStorage.getItem('stele.oidc.session')!) as { accessToken: string }).accessToken);

  test('an admin retires a device with a reason; coverage shows it retired; the log holds device.retire bound to the admin; a report after that is flagged', async () => {
    const page = await signedIn('alice');
    const calls: string[] = [];
    page.on('request', (request) => void (request.url().includes('/v1/admin/devices/') && calls.push(`${request.method()} ${new URL(request.url()).pathname}`)));
    await page.click('header a.admin');
    const row = page.locator(`table.devices tbody tr[data-device="${LAPTOP}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('ok');
    expect(await page.locator(`table.devices tbody tr[data-device="${KIOSK}"] button.reinstate`).count()).toBe(1);

    // A note: who owns it, shown under the id.
    await row.locator('button.note').click();
    const noteDialog = page.locator(`dialog.device-action[data-action="note"][data-device="${LAPTOP}"]`);
    await noteDialog.locator('input[name="note"]').fill("Ada's ThinkPad, 3rd floor");
    await noteDialog.locator('button.confirm').click();
    await page.locator('p.device-message', { hasText: `The note on ${LAPTOP} is saved.` }).waitFor();
    expect(await row.locator('td.device .note').innerText()).toBe("Ada's ThinkPad, 3rd floor");
    calls.length = 0;

    // Cancelled: nothing is sent.
    await row.locator('button.retire').click();
    const dialog = page.locator(`dialog.device-action[data-action="retire"][data-device="${LAPTOP}"]`);
    await dialog.waitFor();
    expect(await dialog.locator('h2').innerText()).toBe(`Retire the device ${LAPTOP}?`);
    await dialog.locator('button.cancel').click();
    await dialog.waitFor({ state: 'detached' });

    // Without a reason the dialog does not go on.
    await row.locator('button.retire').click();
    await dialog.locator('button.confirm').click();
    expect(await dialog.isVisible()).toBe(true);
    expect(calls).toEqual([]);
    await shot(page, 'device-retire-dialog');

    // With one, the device is retired.
    await dialog.locator('textarea[name="reason"]').fill(REASON);
    await dialog.locator('button.confirm').click();
    await page.locator('p.device-message', { hasText: `Device ${LAPTOP} is retired.` }).waitFor();
    expect(calls).toEqual([`POST /v1/admin/devices/${LAPTOP}/retire`]);
    expect(await row.getAttribute('data-state')).toBe('retired');
    expect(await row.locator('td.standing').innerText()).toContain(`by alice@example.com`);
    expect(await row.locator('button.reinstate').count()).toBe(1);
    await shot(page, 'admin-device-retired');

    // Coverage: the laptop is retired, by alice, with her reason.
    await page.click('header a.nav[href="#/coverage"]');
    const mine = page.locator(`table.coverage tr[data-device="${LAPTOP}"]`);
    await mine.waitFor();
    expect(await mine.getAttribute('data-state')).toBe('retired');
    const standing = await mine.locator('td.standing').innerText();
    expect(standing).toMatch(/^retired/);
    expect(standing).toContain('by alice@example.com');
    expect(standing).toContain(REASON);
    expect(await mine.locator('td.device .note').innerText()).toBe("Ada's ThinkPad, 3rd floor");

    // The log: device.retire, alice the verified actor, her reason.
    const token = await accessToken(page);
    await page.context().close();
    const found = (await (await api('/v1/events?action=device.retire', {}, token)).json()) as { events: Array<Record<string, unknown>> };
    const retire = found.events.find((e) => (e.target as { id: string }).id === LAPTOP);
    expect(retire).toMatchObject({ source: 'stele', reason: REASON, actor: { email: 'alice@example.com', verified: true, idp: provider.issuer }, submitter: { type: 'oidc' }, details: { authorizedAs: 'admin' } });

    // Twenty minutes on (with an API token: alice's sign-in lasts ten), the quiet retired devices are not silent.
    const reader = await withToken(((await (await api('/v1/admin/tokens', { method: 'POST', body: JSON.stringify({ name: 'wall-screen', scope: 'read' }) })).json()) as { token: string }).token);
    await reader.clock.setFixedTime(Date.now() + 20 * 60_000);
    await reader.click('header a.nav[href="#/coverage"]');
    const covered = reader.locator(`table.coverage tr[data-device="${LAPTOP}"]`);
    await covered.waitFor();
    expect(await covered.getAttribute('data-state')).toBe('retired');
    expect(await covered.locator('td.age').innerText()).not.toContain('silent');
    expect(await reader.locator('main .status').innerText()).toMatch(/^2 devices · 0 gaps · 0 silent .* · 2 retired$/);
    await shot(reader, 'coverage-retired');

    // The laptop reports again: recorded in the log, and coverage puts it first, flagged.
    await post([deviceEvent(LAPTOP, 4)]);
    await until((listed) => (listed.find((d) => d.id === LAPTOP)?.retired?.reports ?? 0) > 0);
    // The finding is appended right after the commit that revealed it.
    let reports: { events: Array<Record<string, unknown>> };
    for (let i = 0; (reports = (await (await api('/v1/events?action=stele.retired-report', {}, token)).json()) as typeof reports).events.length === 0; i++) {
      if (i > 100) throw new Error('the collector never recorded the stele.retired-report');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(reports.events).toEqual([expect.objectContaining({ outcome: 'failure', target: { type: 'device', id: LAPTOP }, details: expect.objectContaining({ seq: 4, retired: expect.objectContaining({ reason: REASON, by: expect.objectContaining({ email: 'alice@example.com' }) }) }) })]);
    await reader.reload();
    await covered.waitFor();
    expect(await covered.getAttribute('data-state')).toBe('reporting');
    expect(await reader.locator('table.coverage tbody tr').first().getAttribute('data-device')).toBe(LAPTOP);
    expect(await covered.locator('td.standing .flag').innerText()).toBe('RETIRED, YET REPORTING');
    expect(await covered.locator('td.standing').innerText()).toContain('1 event since it was retired');
    expect(await reader.locator('main .status').innerText()).toMatch(/· 1 retired yet reporting$/);
    await shot(reader, 'coverage-retired-reporting');

    // The link goes to the finding.
    await covered.locator('td.standing a').click();
    await reader.waitForURL(/#\/\?q=action%3Astele\.retired-report/);
    await reader.waitForSelector('table.results tbody tr');
    for (const text of await reader.locator('table.results tbody tr').allInnerTexts()) expect(text).toContain('stele.retired-report');
    await reader.context().close();
  });

  test('a reader sees the retired device on the coverage page and no action buttons; the admin page and the API refuse him', async () => {
    const page = await signedIn('bob');
    await page.click('header a.nav[href="#/coverage"]');
    const kiosk = page.locator(`table.coverage tr[data-device="${KIOSK}"]`);
    await kiosk.waitFor();
    expect(['retired', 'reporting']).toContain(await kiosk.getAttribute('data-state'));
    expect(await kiosk.locator('td.standing').innerText()).toContain('lobby kiosk removed');
    expect(await page.locator('main button').count()).toBe(0);
    expect(await page.locator('header a.admin').count()).toBe(0);
    await shot(page, 'coverage-reader');

    await page.goto(`${origin}/#/admin`);
    await page.locator('p.error[data-code="ERR_FORBIDDEN"]').waitFor();
    expect(await page.locator('table.devices').count()).toBe(0);
    expect(await page.locator('main button').count()).toBe(0);

    const token = await accessToken(page);
    const refused = await api(`/v1/admin/devices/${KIOSK}/reinstate`, { method: 'POST', body: JSON.stringify({ reason: 'I want it back' }) }, token);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('ERR_FORBIDDEN');
    expect((await devices()).find((d) => d.id === KIOSK)?.retired).toMatchObject({ reason: 'lobby kiosk removed', by: { id: 'token:bootstrap-admin' } });
    await page.context().close();
  });
});
