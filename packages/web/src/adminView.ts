/**
 * Who is signed in, and the admin page (linked only for a principal whose
 * roles include admin; the API refuses everyone else): API tokens listed,
 * created (the secret shown once) and revoked through /v1/admin/tokens, and
 * the devices, each retired or reinstated (with a reason, after a
 * confirmation) and noted through /v1/admin/devices. Every action is an
 * event in the log with the admin as actor.
 */
import { ApiError, token } from './api.js';
import { deviceCell, deviceState, fetchDevices, standingCell, type Device } from './coverageView.js';
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

/** What each device action asks and says (docs/API.md, "Devices"). */
const ACTIONS = {
  retire: {
    label: 'Retire…',
    title: (d: Device) => `Retire the device ${d.id}?`,
    explain: 'It is no longer expected to report: coverage stops flagging it silent and shows it retired. If it reports again, that is recorded in the log and shown loudly.',
    confirm: 'Retire device',
    done: (d: Device) => `Device ${d.id} is retired.`,
  },
  reinstate: {
    label: 'Reinstate…',
    title: (d: Device) => `Reinstate the device ${d.id}?`,
    explain: 'It is expected to report again: coverage flags it when it goes silent.',
    confirm: 'Reinstate device',
    done: (d: Device) => `Device ${d.id} is reinstated.`,
  },
  note: {
    label: 'Note…',
    title: (d: Device) => `Note on the device ${d.id}`,
    explain: 'Who owns it, what it is (an asset tag): shown with the device. Leave it empty to remove the note.',
    confirm: 'Save note',
    done: (d: Device) => `The note on ${d.id} is saved.`,
  },
} as const;
type DeviceAction = keyof typeof ACTIONS;

/**
 * Asks for the action's reason (and the note) in a modal dialog, and only on
 * its confirmation calls the API; on success the page is drawn again.
 */
function openDeviceDialog(view: HTMLElement, d: Device, action: DeviceAction, message: HTMLElement): void {
  const text = ACTIONS[action];
  const reason = h('textarea', { name: 'reason', rows: '3', maxlength: '1024', ...(action === 'note' ? {} : { required: '' }), 'aria-label': 'Reason' }) as HTMLTextAreaElement;
  const note = action === 'note' ? (h('input', { name: 'note', maxlength: '256', value: d.note?.text ?? '', 'aria-label': 'Note' }) as HTMLInputElement) : undefined;
  const error = h('p.error', { role: 'alert' });
  const cancel = h('button.cancel', { type: 'button' }, 'Cancel');
  const confirm = h(`button.confirm.${action}`, { type: 'submit' }, text.confirm);
  const form = h(
    'form',
    {},
    h('h2', {}, text.title(d)),
    h('p', {}, text.explain),
    note ? h('label', {}, 'Note ', note) : null,
    h('label', {}, action === 'note' ? 'Reason (optional, recorded in the log)' : 'Reason (required, recorded in the log)', reason),
    error,
    h('p.buttons', {}, cancel, confirm),
  );
  const dialog = h('dialog.device-action', { 'data-action': action, 'data-device': d.id }, form) as HTMLDialogElement;
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (action !== 'note' && reason.value.trim() === '') {
      error.textContent = 'Say why: the reason is recorded in the log.';
      return;
    }
    confirm.setAttribute('disabled', '');
    const path = `/v1/admin/devices/${encodeURIComponent(d.id)}/${action}`;
    const body = action === 'note' ? { note: note!.value, ...(reason.value.trim() && { reason: reason.value }) } : { reason: reason.value };
    void call(action === 'note' ? 'PUT' : 'POST', path, body)
      .then(async () => {
        dialog.close();
        await renderAdmin(view, undefined, text.done(d));
      })
      .catch((err: Error) => {
        confirm.removeAttribute('disabled');
        error.textContent = err.message;
      });
  });
  message.after(dialog);
  dialog.showModal();
  (note ?? reason).focus();
}

/** The devices (`GET /v1/devices`), each with its standing and the admin's actions; the coverage page has the full picture. */
function devicesSection(view: HTMLElement, devices: Device[], done?: string): HTMLElement[] {
  const now = Date.now();
  const message = h('p.device-message', { role: 'status' }, done ?? '');
  const button = (d: Device, action: DeviceAction) => {
    const b = h(`button.${action}`, { type: 'button', 'data-device': d.id }, ACTIONS[action].label);
    b.addEventListener('click', () => openDeviceDialog(view, d, action, message));
    return b;
  };
  const rows = devices.map((d) =>
    h(
      `tr${d.retired ? '.retired' : ''}`,
      { 'data-device': d.id, 'data-state': deviceState(d, now) },
      deviceCell(d),
      h('td', {}, d.user.email ?? d.user.id ?? '?', d.user.verified ? h('span.badge', { title: 'the identity provider proved this user' }, '✓') : null),
      h('td', {}, d.submitter ? `${d.submitter.type} ${d.submitter.name ?? d.submitter.id}` : ''),
      h('td.time', { title: d.lastSeen }, stamp(d.lastSeen)),
      h('td.num', {}, String(d.lastSeq)),
      h('td.num', {}, String(d.events)),
      h('td.num.gaps', {}, d.gaps > 0 ? h('a', { href: `#/?q=${encodeURIComponent(`action:stele.gap target:${d.id}`)}` }, String(d.gaps)) : '0'),
      standingCell(d, deviceState(d, now)),
      h('td.actions', {}, button(d, d.retired ? 'reinstate' : 'retire'), ' ', button(d, 'note'), ' ', h('a', { href: `#/?q=${encodeURIComponent(`source:stele target:${d.id}`)}`, title: 'every admin action and finding on this device' }, 'history')),
    ),
  );
  return [
    h('h2', {}, 'Devices'),
    h('p.muted', {}, 'Every device that numbers its events. ', h('a', { href: '#/coverage' }, 'Coverage'), ' shows which went silent. Retire a device that was decommissioned: it is then no longer expected to report, and is flagged if it does. Each action is an event in the log, with you as the actor and your reason.'),
    message,
    devices.length === 0
      ? h('p.muted', {}, 'No device has sent events with a device sequence yet.')
      : h('table.results.devices', {}, h('thead', {}, h('tr', {}, ...['device', 'user', 'submitter', 'last seen (UTC)', 'last seq', 'events', 'gaps', 'standing', 'actions'].map((t) => h('th', {}, t)))), h('tbody', {}, ...rows)),
  ];
}

/**
 * Renders the admin page (`#/admin`) into `view`; `created` is a token just
 * made, whose secret is shown this once; `done` says what a device action did.
 */
export async function renderAdmin(view: HTMLElement, created?: { token: string; name: string }, done?: string): Promise<void> {
  const [{ tokens }, devices] = await Promise.all([call<{ tokens: TokenRecord[] }>('GET', '/v1/admin/tokens'), fetchDevices()]);
  view.replaceChildren(h('h1', {}, 'Admin'), ...tokensSection(view, tokens, created), ...devicesSection(view, devices, done));
}
