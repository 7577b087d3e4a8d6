/**
 * Who is signed in, and the admin pages (shown only to a principal whose
 * roles include admin): API tokens listed, created (the secret shown once)
 * and revoked through /v1/admin/tokens, and the device list.
 */
import { ApiError, token } from './api.js';
import { h } from './dom.js';

/** `GET /v1/auth/whoami`'s answer, in the part the console uses. */
export interface WhoAmI {
  type: 'token' | 'oidc' | 'anonymous';
  name?: string;
  subject?: string;
  actor?: { id: string; email?: string; name?: string };
  roles: string[];
}

/** True when the caller may see the admin pages. */
export const isAdmin = (who: WhoAmI | undefined): boolean => who?.roles.includes('admin') ?? false;

/** How the header names the caller. */
export function describe(who: WhoAmI): string {
  if (who.type === 'oidc') return who.actor?.email ?? who.actor?.name ?? who.subject ?? 'signed in';
  if (who.type === 'token') return `token ${who.name ?? ''}`.trim();
  return 'anonymous';
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const secret = token.get();
  const response = await fetch(path, {
    method,
    headers: { ...(secret ? { authorization: `Bearer ${secret}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const json = (await response.json().catch(() => undefined)) as { error?: { code: string; message: string } } | undefined;
  if (!response.ok) throw new ApiError(response.status, json?.error?.code ?? 'ERR_HTTP', json?.error?.message ?? response.statusText);
  return json as T;
}

export const fetchWhoAmI = (): Promise<WhoAmI> => call('GET', '/v1/auth/whoami');

interface TokenRecord {
  id: string;
  name: string;
  scope: string;
  created: string;
  revoked: string | null;
}

interface Device {
  id: string;
  user: string;
  lastSeen: string;
  lastSeq: number;
  events: number;
  gaps: number;
}

/** Renders the admin page (`#/admin`) into `view`. */
export async function renderAdmin(view: HTMLElement): Promise<void> {
  const [{ tokens }, { devices }] = await Promise.all([call<{ tokens: TokenRecord[] }>('GET', '/v1/admin/tokens'), call<{ devices: Device[] }>('GET', '/v1/devices')]);
  const name = h('input', { name: 'name', placeholder: 'name', required: '', pattern: '[\\x21-\\x7e]{1,64}', 'aria-label': 'Token name' }) as HTMLInputElement;
  const scope = h('select', { name: 'scope', 'aria-label': 'Scope' }, h('option', {}, 'read'), h('option', {}, 'ingest'), h('option', {}, 'admin')) as HTMLSelectElement;
  const secret = h('p.secret', { role: 'status' });
  const form = h('form.create-token', {}, name, scope, h('button', { type: 'submit' }, 'Create token'), secret);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void call<{ token: string }>('POST', '/v1/admin/tokens', { name: name.value, scope: scope.value })
      .then(async (created) => {
        await renderAdmin(view);
        view.querySelector('p.secret')!.replaceChildren('New token (shown once): ', h('code', {}, created.token));
      })
      .catch((err: Error) => secret.replaceChildren(h('span.error', { role: 'alert' }, err.message)));
  });
  const rows = tokens.map((t) => {
    const revoke = h('button.revoke', { type: 'button', 'data-id': t.id }, 'Revoke');
    revoke.addEventListener('click', () => {
      if (!confirm(`Revoke the token ${t.name}?`)) return;
      void call('DELETE', `/v1/admin/tokens/${encodeURIComponent(t.id)}`).then(() => renderAdmin(view));
    });
    return h('tr', {}, h('td', {}, t.name), h('td', {}, t.scope), h('td', {}, t.id), h('td', {}, t.created), h('td', {}, t.revoked ?? (revoke as Node)));
  });
  view.replaceChildren(
    h('h2', {}, 'API tokens'),
    form,
    h('table.tokens', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Scope'), h('th', {}, 'Id'), h('th', {}, 'Created'), h('th', {}, 'Revoked'))), h('tbody', {}, ...rows)),
    h('h2', {}, 'Devices'),
    h(
      'table.devices',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'Device'), h('th', {}, 'User'), h('th', {}, 'Last seen'), h('th', {}, 'Last seq'), h('th', {}, 'Events'), h('th', {}, 'Gaps'))),
      h('tbody', {}, ...devices.map((d) => h('tr', {}, h('td', {}, d.id), h('td', {}, d.user), h('td', {}, d.lastSeen), h('td', {}, String(d.lastSeq)), h('td', {}, String(d.events)), h('td', {}, String(d.gaps))))),
    ),
  );
}
