/**
 * The console's shell: a hash router (`#/?q=...`, `#/event/<id>`) so links can
 * be shared, signing in (the identity provider, or a pasted API token),
 * signing out, and the keyboard (`/` focuses the search).
 */
import { ApiError, token } from './api.js';
import { h } from './dom.js';
import { renderCoverage } from './coverageView.js';
import { renderEvent } from './eventView.js';
import { showSelfCheck, watchSelfCheck } from './integrity.js';
import { describe as describeWho, fetchWhoAmI, isAdmin, renderAdmin, type WhoAmI } from './adminView.js';
import { finishSignIn, session, startSignIn, type IssuerConfig } from './signin.js';
import { leaveSearch, renderSearch } from './searchView.js';
import './style.css';

const input = document.querySelector<HTMLInputElement>('#q')!;
const main = document.querySelector<HTMLElement>('main')!;
const signout = document.querySelector<HTMLButtonElement>('#signout')!;
// The coverage page's link, beside the brand.
document.querySelector('header .brand')?.after(h('a.nav', { href: '#/coverage' }, 'Coverage'));

/**
 * The sign-in page: a button per identity provider the collector names
 * (authorization code + PKCE, signin.ts), and the API token field. A shared
 * link opened here comes back to the same view once signed in.
 */
function signInPage(message?: string, alert = false): HTMLElement {
  const field = h('input', { type: 'password', id: 'token', placeholder: 'stele_…', autocomplete: 'off', 'aria-label': 'API token' }) as HTMLInputElement;
  const providers = h('p.signin');
  const pasteToken = (or: boolean) => `${or ? 'Or paste' : 'Paste'} an API token with scope read (stele token create --name console --scope read).`;
  const hint = h('p.paste', {}, pasteToken(false));
  const form = h(
    'form.token',
    {},
    message ? h(`p.${alert ? 'error' : 'notice'}`, alert ? { role: 'alert' } : {}, message) : null,
    providers,
    hint,
    field,
    h('button', { type: 'submit' }, 'Use token'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    token.set(field.value);
    void route().then(showWho);
  });
  void fetch('/v1/auth/config')
    .then((r) => r.json() as Promise<{ issuers: IssuerConfig[] }>)
    .then(({ issuers }) => {
      for (const issuer of issuers.filter((i) => i.authorizationEndpoint && i.tokenEndpoint)) {
        const button = h('button.signin', { type: 'button', 'data-issuer': issuer.name }, `Sign in with ${issuer.name}`);
        button.addEventListener('click', () => void startSignIn(issuer).catch((err: Error) => providers.append(h('span.error', { role: 'alert' }, ` ${err.message}`))));
        providers.append(button);
        hint.textContent = pasteToken(true);
      }
      providers.querySelector<HTMLElement>('button')?.focus();
    })
    .catch(() => undefined);
  queueMicrotask(() => field.focus());
  return form;
}

/** Names the caller in the header and links the admin page for admins (GET /v1/auth/whoami). */
async function showWho(): Promise<void> {
  const who = token.get() ? await fetchWhoAmI().catch(() => undefined) : undefined;
  document.querySelector('header .who')?.remove();
  document.querySelector('header a.admin')?.remove();
  void showSelfCheck();
  signout.hidden = !token.get();
  signout.textContent = session.get() ? 'Sign out' : 'Forget token';
  signout.title = session.get() ? 'Sign out of the console in this tab' : 'Forget the API token';
  if (!who) return;
  signout.before(h('span.who', { title: (who.roles ?? []).join(', ') }, describeWho(who)));
  if (isAdmin(who)) signout.before(h('a.nav.admin', { href: '#/admin' }, 'Admin'));
}

/** What a refused request means to the person at the keyboard. */
function refusal(err: ApiError, who: WhoAmI | undefined, needed: string): string {
  if (err.status === 403) {
    const roles = who?.roles.join(', ') || 'none';
    return `${who ? describeWho(who) : 'You'} may not see this page (${err.code}): it needs the ${needed} role, and yours are ${roles}. Ask an admin, or sign out and sign in as someone else.`;
  }
  return `${err.code}: ${err.message}`;
}

let generation = 0;

/** The address the search box itself last went to (typing or Enter). */
let typedHash: string | undefined;

/** Goes to the search the box holds. */
function searchFromBox(): void {
  const next = `#/?q=${encodeURIComponent(input.value)}`;
  typedHash = next;
  if (location.hash === next) void route();
  else location.hash = next;
}

/**
 * Shows `text` in the search box: the box shows the search the URL holds,
 * the query on the search page, nothing on Coverage and Admin, which are no
 * search (typing there starts one). Left alone while someone types there and
 * the URL is the one their typing went to (they may have typed on since);
 * Back or a link moves it. The event page leaves the box as it was: opened
 * from a search, it keeps that search, to refine it.
 */
function showQuery(text: string): void {
  if (document.activeElement === input && location.hash === typedHash) return;
  input.value = text;
}

async function route(): Promise<void> {
  leaveSearch();
  if (!token.get()) {
    main.replaceChildren(session.expired() ? signInPage('Your sign-in has expired. Sign in again.', true) : signInPage());
    return;
  }
  const hash = location.hash.replace(/^#/, '') || '/';
  // Each view renders into its own element, shown only while it is still the latest one asked for.
  const view = h('div.view');
  const mine = ++generation;
  main.replaceChildren(view);
  try {
    if (hash === '/admin') {
      showQuery('');
      await renderAdmin(view);
    } else if (hash === '/coverage') {
      showQuery('');
      await renderCoverage(view);
    } else if (hash.startsWith('/event/')) {
      await renderEvent(view, decodeURIComponent(hash.slice('/event/'.length)));
    } else {
      const q = new URLSearchParams(hash.split('?')[1] ?? '').get('q') ?? '';
      showQuery(q);
      await renderSearch(view, q);
    }
  } catch (err) {
    if (mine !== generation) return;
    if (err instanceof ApiError && err.status === 401) {
      const signedIn = session.get() !== null;
      token.clear();
      await showWho();
      main.replaceChildren(signInPage(signedIn ? `Your sign-in was refused (${err.code}). Sign in again.` : `The token was refused (${err.code}). Paste another one.`, true));
    } else if (err instanceof ApiError) {
      main.replaceChildren(h('p.error', { role: 'alert', 'data-code': err.code }, refusal(err, await fetchWhoAmI().catch(() => undefined), hash === '/admin' ? 'admin' : 'read')));
    } else {
      main.replaceChildren(h('p.error', { role: 'alert' }, (err as Error).message));
    }
  }
}

// Results follow the typing, a moment after the last key.
let timer: ReturnType<typeof setTimeout> | undefined;
input.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(searchFromBox, 250);
});
document.querySelector('#search')!.addEventListener('submit', (ev) => {
  ev.preventDefault();
  clearTimeout(timer);
  searchFromBox();
});
// Signing out forgets the token in this tab; the identity provider's own session is its business.
signout.addEventListener('click', () => {
  const wasSession = session.get() !== null;
  token.clear();
  void showWho();
  main.replaceChildren(signInPage(wasSession ? 'Signed out.' : 'The token is forgotten.'));
});
document.addEventListener('keydown', (ev) => {
  const typing = ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement || ev.target instanceof HTMLSelectElement;
  if (ev.key === '/' && !typing) {
    ev.preventDefault();
    input.focus();
    input.select();
  } else if (ev.key === 'Escape' && ev.target === input) {
    input.blur();
    main.querySelector<HTMLElement>('tbody tr')?.focus();
  }
});
window.addEventListener('hashchange', () => void route());
watchSelfCheck();
finishSignIn()
  .then(
    async () => {
      await route();
      await showWho();
    },
    async (err: Error) => {
      await showWho();
      main.replaceChildren(signInPage(err.message, true));
    },
  )
  .catch(() => undefined);
