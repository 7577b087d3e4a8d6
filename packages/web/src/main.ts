/**
 * The console's shell: a hash router (`#/?q=...`, `#/event/<id>`) so links can
 * be shared, the token prompt, and the keyboard (`/` focuses the search).
 */
import { ApiError, token } from './api.js';
import { h } from './dom.js';
import { renderCoverage } from './coverageView.js';
import { renderEvent } from './eventView.js';
import { describe as describeWho, fetchWhoAmI, isAdmin, renderAdmin } from './adminView.js';
import { finishSignIn, startSignIn, type IssuerConfig } from './signin.js';
import { renderSearch, stopLive } from './searchView.js';
import './style.css';

const input = document.querySelector<HTMLInputElement>('#q')!;
const main = document.querySelector<HTMLElement>('main')!;
// The coverage page's link, beside the brand.
document.querySelector('header .brand')?.after(h('a.nav', { href: '#/coverage' }, 'Coverage'));

function tokenForm(message?: string): HTMLElement {
  const field = h('input', { type: 'password', id: 'token', placeholder: 'stele_…', autocomplete: 'off', 'aria-label': 'API token' }) as HTMLInputElement;
  const form = h(
    'form.token',
    {},
    h('p', {}, message ?? 'Paste an API token with scope read (stele token create --name console --scope read).'),
    field,
    h('button', { type: 'submit' }, 'Use token'),
    signInButtons(),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    token.set(field.value);
    void route().then(showWho);
  });
  queueMicrotask(() => field.focus());
  return form;
}

/** "Sign in with ..." for each issuer `GET /v1/auth/config` names (authorization code + PKCE, signin.ts). */
function signInButtons(): HTMLElement {
  const box = h('p.signin');
  void fetch('/v1/auth/config')
    .then((r) => r.json() as Promise<{ issuers: IssuerConfig[] }>)
    .then(({ issuers }) => {
      for (const issuer of issuers.filter((i) => i.authorizationEndpoint && i.tokenEndpoint)) {
        const button = h('button.signin', { type: 'button' }, `Sign in with ${issuer.name}`);
        button.addEventListener('click', () => void startSignIn(issuer));
        box.append(button);
      }
    })
    .catch(() => undefined);
  return box;
}

/** Names the caller in the header and links the admin page for admins (GET /v1/auth/whoami). */
async function showWho(): Promise<void> {
  const who = await fetchWhoAmI().catch(() => undefined);
  document.querySelector('header .who')?.remove();
  document.querySelector('header a.admin')?.remove();
  if (!who) return;
  const signout = document.querySelector('#signout')!;
  signout.before(h('span.who', {}, describeWho(who)));
  if (isAdmin(who)) signout.before(h('a.nav.admin', { href: '#/admin' }, 'Admin'));
}

let generation = 0;

async function route(): Promise<void> {
  if (!token.get()) {
    main.replaceChildren(tokenForm());
    return;
  }
  stopLive();
  const hash = location.hash.replace(/^#/, '') || '/';
  // Each view renders into its own element, shown only while it is still the latest one asked for.
  const view = h('div.view');
  const mine = ++generation;
  main.replaceChildren(view);
  try {
    if (hash === '/admin') {
      await renderAdmin(view);
    } else if (hash === '/coverage') {
      await renderCoverage(view);
    } else if (hash.startsWith('/event/')) {
      await renderEvent(view, decodeURIComponent(hash.slice('/event/'.length)));
    } else {
      const q = new URLSearchParams(hash.split('?')[1] ?? '').get('q') ?? '';
      if (document.activeElement !== input) input.value = q;
      await renderSearch(view, q);
    }
  } catch (err) {
    if (mine !== generation) return;
    if (err instanceof ApiError && err.status === 401) {
      token.clear();
      main.replaceChildren(tokenForm(`The token was refused (${err.code}). Paste another one.`));
    } else {
      main.replaceChildren(h('p.error', { role: 'alert' }, err instanceof ApiError ? `${err.code}: ${err.message}` : (err as Error).message));
    }
  }
}

// Results follow the typing, a moment after the last key.
let timer: ReturnType<typeof setTimeout> | undefined;
input.addEventListener('input', () => {
  clearTimeout(timer);
  timer = setTimeout(() => (location.hash = `#/?q=${encodeURIComponent(input.value)}`), 250);
});
document.querySelector('#search')!.addEventListener('submit', (ev) => {
  ev.preventDefault();
  clearTimeout(timer);
  const next = `#/?q=${encodeURIComponent(input.value)}`;
  if (location.hash === next) void route();
  else location.hash = next;
});
document.querySelector('#signout')!.addEventListener('click', () => {
  token.clear();
  void route();
});
document.addEventListener('keydown', (ev) => {
  const typing = ev.target instanceof HTMLInputElement || ev.target instanceof HTMLTextAreaElement;
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
finishSignIn()
  .catch((err: Error) => {
    main.replaceChildren(h('p.error', { role: 'alert' }, err.message));
    return null;
  })
  .then(async (finished) => {
    if (finished === null) return;
    await route();
    if (token.get()) await showWho();
  })
  .catch(() => undefined);
