/**
 * Signing in to the console with the identity provider, end to end in
 * Debian's Chromium: a real OpenID provider on loopback (oidc-provider, the
 * console's page registered as a redirect URI of the public client, CORS on
 * the token endpoint for that origin only) and a real `stele serve`
 * configured for it. The authorization code flow with PKCE runs in the
 * browser: the person signs in on the provider's own pages, the console
 * exchanges the code from the page, and then:
 *
 * - a reader (bob, group auditors) sees the search a shared link named, and
 *   no admin page; signing out forgets the token;
 * - an admin (alice, group stele-admins) creates an API token (its secret
 *   shown once), sees it listed, revokes it, and sees the devices; each is
 *   an event in the log with alice as the verified actor;
 * - a person without the read role (carol) is told so; an expired sign-in
 *   asks to sign in again; a forged or refused answer is refused.
 *
 * Screenshots go to test-artifacts/ (not committed). Skips when
 * /usr/bin/chromium is absent (apt-get install -y chromium).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startProvider, writeCollectorConfig, type TestProvider } from './oidcProvider.js';
import { freePort, postEvents, removeTempDirs, seedEvent, tempDir } from './helpers.js';
import { startCollector, type Collector } from './sourcesProcess.js';
import { CHROMIUM, freshPage, launchChromium, shot } from './browser.js';

const hasChromium = existsSync(CHROMIUM);
const COUNT = 30;

if (!hasChromium) console.warn(`test/console-signin.test.ts: skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('signing in to the console with the identity provider, in Chromium', () => {
  let provider: TestProvider;
  let collector: Collector;
  let browser: Browser;
  let origin: string;

  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    provider = await startProvider({ redirectUris: [`${origin}/`] });
    const config = join(tempDir('console-signin-config'), 'stele.json');
    writeCollectorConfig(config, provider);
    collector = await startCollector(join(tempDir('console-signin'), 'data'), { port, args: ['--config', config] });
    expect(collector.url.replace(/\/$/, '')).toBe(origin);
    const response = await postEvents(origin, collector.adminToken, Array.from({ length: COUNT }, (_, i) => seedEvent(i)));
    expect(response.status).toBe(201);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await collector?.stop();
    await provider?.close();
    removeTempDirs();
  });

  /** A fresh profile at `path` on the console; nothing stored. */
  async function open(path = '/'): Promise<Page> {
    const page = await freshPage(browser);
    await page.goto(origin + path);
    return page;
  }

  /** Clicks "Sign in with testidp" and plays `user` on the provider's own login and consent pages. */
  async function signIn(page: Page, user: string, screenshots = false): Promise<void> {
    const button = page.locator('button.signin[data-issuer="testidp"]');
    await button.waitFor();
    if (screenshots) await shot(page, 'signin');
    await button.click();
    await page.waitForURL((url) => url.origin === provider.issuer);
    await page.locator('input[name="login"]').fill(user);
    await page.locator('input[name="password"]').fill('any');
    if (screenshots) await shot(page, 'signin-idp');
    await page.locator('button[type="submit"]').click();
    // The consent page, then the redirect back to the console's own page with the code.
    await page.locator('button:has-text("Continue")').click();
    await page.waitForURL((url) => url.origin === origin);
    await page.locator('header .who').waitFor();
  }

  /** The session the console keeps in this tab's sessionStorage. */
  const sessionOf = (page: Page) => page.evaluate(() => JSON.parse(sessionStorage.getItem('stele.oidc.session') ?? 'null') as { accessToken: string; issuer: string; expires: number } | null);

  test('a reader signs in (code + PKCE, the token fetched by the page under CORS), sees the shared search, no admin page, and signs out', async () => {
    // A shared link, opened before signing in: the same search comes back afterwards.
    const page = await open(`/#/?q=${encodeURIComponent('source:git actor:bob')}`);
    const exchanges: { origin: string | undefined; allowed: string | undefined; status: number; body: string }[] = [];
    page.on('response', async (response) => {
      if (response.url() !== `${provider.issuer}/token` || response.request().method() !== 'POST') return;
      exchanges.push({ origin: (await response.request().allHeaders()).origin, allowed: response.headers()['access-control-allow-origin'], status: response.status(), body: response.request().postData() ?? '' });
    });
    await signIn(page, 'bob', true);
    await page.waitForSelector('table.results tbody tr');
    expect(page.url()).toBe(`${origin}/#/?q=${encodeURIComponent('source:git actor:bob')}`); // the code and state are gone from the address
    expect(await page.inputValue('#q')).toBe('source:git actor:bob');
    const expected = Array.from({ length: COUNT }, (_, i) => seedEvent(i)).filter((e) => e.source === 'git' && (e.actor as { id: string }).id === 'bob').length;
    await page.waitForFunction((n) => document.querySelectorAll('table.results tbody tr').length === n, expected);
    for (const row of await page.locator('table.results tbody tr').allInnerTexts()) expect(row).toMatch(/bob@example\.com.*git/s);

    // The exchange: one POST from the console's origin, allowed by CORS, with the PKCE verifier and no secret.
    expect(exchanges).toHaveLength(1);
    expect(exchanges[0]).toMatchObject({ origin, allowed: origin, status: 200 });
    const form = new URLSearchParams(exchanges[0]!.body);
    expect(form.get('grant_type')).toBe('authorization_code');
    expect(form.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(form.get('redirect_uri')).toBe(`${origin}/`);
    expect(form.has('client_secret')).toBe(false);

    // The header names bob; he is a reader: no admin link, and the admin page is refused by the API.
    expect(await page.locator('header .who').innerText()).toBe('bob@example.com');
    expect(await page.locator('#signout').innerText()).toBe('Sign out');
    expect(await page.locator('header a.admin').count()).toBe(0);
    const session = await sessionOf(page);
    expect(session).toMatchObject({ issuer: 'testidp', accessToken: expect.stringMatching(/^ey/) });
    expect(await page.evaluate(() => localStorage.getItem('stele.token'))).toBeNull(); // never in localStorage
    expect(await page.evaluate(() => document.cookie)).toBe('');
    await page.goto(`${origin}/#/admin`);
    const refused = page.locator('p.error[data-code="ERR_FORBIDDEN"]');
    await refused.waitFor();
    expect(await refused.innerText()).toMatch(/needs the admin role, and yours are ingest, read/);
    expect(await page.locator('table.tokens').count()).toBe(0);
    await shot(page, 'admin-refused');
    const admin = await fetch(`${origin}/v1/admin/tokens`, { headers: { authorization: `Bearer ${session!.accessToken}` } });
    expect(admin.status).toBe(403);

    // Signing out forgets the token in this tab; a reload stays signed out.
    await page.click('#signout');
    await page.locator('form.token .notice').waitFor();
    expect(await page.locator('form.token .notice').innerText()).toBe('Signed out.');
    expect(await sessionOf(page)).toBeNull();
    expect(await page.locator('header .who').count()).toBe(0);
    expect(await page.locator('#signout').isHidden()).toBe(true);
    await shot(page, 'signed-out');
    await page.reload();
    await page.locator('button.signin').waitFor();
    expect(await page.locator('table.results').count()).toBe(0);
    // Beside a provider's button, the token is the other way in.
    expect(await page.locator('form.token p.paste').innerText()).toMatch(/^Or paste an API token/);
    await page.context().close();
  });

  test('an admin signs in, creates an API token (shown once), lists and revokes it, and sees the devices', async () => {
    const page = await open('/');
    await signIn(page, 'alice');
    expect(await page.locator('header .who').innerText()).toBe('alice@example.com');
    await page.click('header a.admin');
    await page.waitForURL(/#\/admin$/);
    await page.locator('table.tokens').waitFor();
    expect(await page.locator('table.tokens tbody tr[data-name="bootstrap-admin"]').count()).toBe(1);

    // Create: the secret is shown once, and it works.
    await page.fill('form.create-token input[name="name"]', 'ci-reader');
    await page.selectOption('form.create-token select', 'read');
    await page.click('form.create-token button[type="submit"]');
    const secret = page.locator('p.secret code');
    await secret.waitFor();
    const token = await secret.innerText();
    expect(token).toMatch(/^stele_/);
    const row = page.locator('table.tokens tbody tr[data-name="ci-reader"]');
    expect(await row.locator('td').nth(1).innerText()).toBe('read');
    expect(await row.locator('td.state').innerText()).toContain('live');
    await shot(page, 'admin-token-created');
    const whoami = await fetch(`${origin}/v1/auth/whoami`, { headers: { authorization: `Bearer ${token}` } });
    expect(await whoami.json()).toMatchObject({ type: 'token', name: 'ci-reader', roles: ['read'] });

    // Listed again (a reload), the secret is nowhere on the page.
    await page.reload();
    await row.waitFor();
    expect(await page.locator('p.secret code').count()).toBe(0);
    expect(await page.content()).not.toContain(token);

    // Revoke, after the confirmation: the row says so and the token stops working.
    page.once('dialog', (dialog) => void dialog.accept());
    await row.locator('button.revoke').click();
    await page.locator('table.tokens tbody tr.revoked[data-name="ci-reader"]').waitFor();
    expect(await page.locator('table.tokens tbody tr[data-name="ci-reader"] td.state').innerText()).toMatch(/^revoked /);
    expect((await fetch(`${origin}/v1/auth/whoami`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);

    // The devices the seed's events numbered.
    const devices = await page.locator('table.devices tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.device));
    const seeded = new Set(Array.from({ length: COUNT }, (_, i) => (seedEvent(i).device as { id: string }).id));
    expect(new Set(devices)).toEqual(seeded);
    await shot(page, 'admin');

    // Both actions are events in the log, with alice as the verified actor.
    const session = await sessionOf(page);
    for (const action of ['token.create', 'token.revoke']) {
      const found = (await (await fetch(`${origin}/v1/events?action=${action}`, { headers: { authorization: `Bearer ${session!.accessToken}` } })).json()) as { events: { actor: Record<string, unknown>; target: { name: string } }[] };
      expect(found.events.map((e) => e.target.name)).toContain('ci-reader');
      expect(found.events[0]!.actor).toMatchObject({ email: 'alice@example.com', verified: true, idp: provider.issuer });
    }

    // The access token lives ten minutes; after that the console asks to sign in again.
    await page.clock.setFixedTime(session!.expires + 1000);
    await page.goto(`${origin}/#/`);
    await page.reload();
    const expired = page.locator('form.token p.error');
    await expired.waitFor();
    expect(await expired.innerText()).toBe('Your sign-in has expired. Sign in again.');
    await page.context().close();
  });

  test('a person without the read role is told why; a refused or forged sign-in answer is refused', async () => {
    const page = await open('/');
    await signIn(page, 'carol');
    const refused = page.locator('p.error[data-code="ERR_FORBIDDEN"]');
    await refused.waitFor();
    expect(await refused.innerText()).toMatch(/^carol@example\.com may not see this page .*needs the read role, and yours are ingest/);
    await shot(page, 'signin-no-role');
    await page.context().close();

    // The provider said no.
    const denied = await open('/?error=access_denied&error_description=the%20user%20said%20no&state=x');
    await denied.locator('form.token p.error').waitFor();
    expect(await denied.locator('form.token p.error').innerText()).toBe('the identity provider refused: access_denied (the user said no)');
    expect(denied.url()).toBe(`${origin}/`);
    await denied.context().close();

    // A code this tab never asked for (no pending sign-in, or another state): nothing is exchanged.
    const forged = await open('/');
    let exchanged = false;
    forged.on('request', (request) => void (request.url().startsWith(provider.issuer) && (exchanged = true)));
    await forged.evaluate(() => sessionStorage.setItem('stele.oidc.pending', JSON.stringify({ verifier: 'v'.repeat(43), state: 'mine', redirect: `${location.origin}/`, hash: '', issuer: { name: 'testidp', issuer: 'http://127.0.0.1:9', clientId: 'x', scopes: [] } })));
    await forged.goto(`${origin}/?code=stolen&state=theirs`);
    await forged.locator('form.token p.error').waitFor();
    expect(await forged.locator('form.token p.error').innerText()).toMatch(/state mismatch/);
    expect(exchanged).toBe(false);
    expect(await sessionOf(forged)).toBeNull();
    await forged.context().close();
  });
});
