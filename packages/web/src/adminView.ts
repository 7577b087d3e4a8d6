/**
 * Who is signed in, and the admin page (linked only for a principal whose
 * roles include admin; the API refuses everyone else): API tokens listed,
 * created (the secret shown once) and revoked through /v1/admin/tokens, and
 * the devices. The API has no device actions: devices are listed, with
 * their gaps.
 */
import { ApiError, token } from './api.js';
import { fetchDevices, type Device } from './coverageView.js';
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

const stamp = (iso: string) => iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', '');

/** The API tokens: create (the secret shown once, here), list, revoke; each an event in the log. */
function tokensSection(view: HTMLElement, tokens: TokenRecord[], created?: { token: string; name: string }): HTMLElement[] {
  const name = h('input', { name: 'name', placeholder: 'name', required: '', pattern: '[\\x21-\\x7e]{1,64}', title: '1 to 64 printable characters, no spaces', 'aria-label': 'Token name' }) as HTMLInputElement;
  const scope = h('select', { name: 'scope', 'aria-label': 'Scope' }, h('option', {}, 'read'), h('option', {}, 'ingest'), h('option', {}, 'admin')) as HTMLSelectElement;
  const message = h('p.secret', { role: 'status' });
  if (created) {
    const code = h('code', {}, created.token);
    const copy = h('button.copy', { type: 'button' }, 'Copy');
    copy.addEventListener('click', () => void navigator.clipboard?.writeText(created.token).then(() => (copy.textContent = 'Copied')));
    message.replaceChildren(`New token ${created.name} (shown once, copy it now): `, code, ' ', copy);
  }
  const form = h('form.create-token', {}, name, scope, h('button', { type: 'submit' }, 'Create token'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void call<{ token: string; record: TokenRecord }>('POST', '/v1/admin/tokens', { name: name.value, scope: scope.value })
      .then((answer) => renderAdmin(view, { token: answer.token, name: answer.record.name }))
      .catch((err: Error) => message.replaceChildren(h('span.error', { role: 'alert' }, err.message)));
  });
  const rows = tokens.map((t) => {
    let state: Node | string = t.revoked ? `revoked ${stamp(t.revoked)}` : 'live';
    if (!t.revoked) {
      const revoke = h('button.revoke', { type: 'button', 'data-id': t.id }, 'Revoke');
      revoke.addEventListener('click', () => {
        if (!confirm(`Revoke the token ${t.name}? Whatever uses it stops working at once.`)) return;
        void call('DELETE', `/v1/admin/tokens/${encodeURIComponent(t.id)}`)
          .then(() => renderAdmin(view))
          .catch((err: Error) => message.replaceChildren(h('span.error', { role: 'alert' }, err.message)));
      });
      state = h('span', {}, 'live ', revoke);
    }
    return h(`tr${t.revoked ? '.revoked' : ''}`, { 'data-token': t.id, 'data-name': t.name }, h('td', {}, t.name), h('td', {}, t.scope), h('td.id', {}, t.id), h('td.time', { title: t.created }, stamp(t.created)), h('td.state', {}, state));
  });
  return [
    h('h2', {}, 'API tokens'),
    h('p.muted', {}, 'Creating and revoking a token are events in the log, with you as the actor.'),
    form,
    message,
    h('table.results.tokens', {}, h('thead', {}, h('tr', {}, ...['name', 'scope', 'id', 'created (UTC)', 'state'].map((t) => h('th', {}, t)))), h('tbody', {}, ...rows)),
  ];
}

/** The devices (`GET /v1/devices`), with a link to each one's gaps; the coverage page has the full picture. */
function devicesSection(devices: Device[]): HTMLElement[] {
  const rows = devices.map((d) =>
    h(
      'tr',
      { 'data-device': d.id },
      h('td', {}, d.id),
      h('td', {}, d.user.email ?? d.user.id ?? '?', d.user.verified ? h('span.badge', { title: 'the identity provider proved this user' }, '✓') : null),
      h('td', {}, d.submitter ? `${d.submitter.type} ${d.submitter.name ?? d.submitter.id}` : ''),
      h('td.time', { title: d.lastSeen }, stamp(d.lastSeen)),
      h('td.num', {}, String(d.lastSeq)),
      h('td.num', {}, String(d.events)),
      h('td.num.gaps', {}, d.gaps > 0 ? h('a', { href: `#/?q=${encodeURIComponent(`action:stele.gap target:${d.id}`)}` }, String(d.gaps)) : '0'),
    ),
  );
  return [
    h('h2', {}, 'Devices'),
    h('p.muted', {}, 'Every device that numbers its events. ', h('a', { href: '#/coverage' }, 'Coverage'), ' shows which went silent.'),
    devices.length === 0
      ? h('p.muted', {}, 'No device has sent events with a device sequence yet.')
      : h('table.results.devices', {}, h('thead', {}, h('tr', {}, ...['device', 'user', 'submitter', 'last seen (UTC)', 'last seq', 'events', 'gaps'].map((t) => h('th', {}, t)))), h('tbody', {}, ...rows)),
  ];
}

/** Renders the admin page (`#/admin`) into `view`; `created` is a token just made, whose secret is shown this once. */
export async function renderAdmin(view: HTMLElement, created?: { token: string; name: string }): Promise<void> {
  const [{ tokens }, devices] = await Promise.all([call<{ tokens: TokenRecord[] }>('GET', '/v1/admin/tokens'), fetchDevices()]);
  view.replaceChildren(h('h1', {}, 'Admin'), ...tokensSection(view, tokens, created), ...devicesSection(devices));
}
