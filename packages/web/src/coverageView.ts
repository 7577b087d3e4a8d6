/**
 * Coverage (`#/coverage`): every device that sent events, from
 * `GET /v1/devices`: its user, first and last seen, last sequence number,
 * gaps, late events and how long ago it was last heard from, so an auditor
 * can show that logging was on. Devices with gaps are highlighted; devices
 * quiet for longer than {@link SILENT_MS} are flagged silent. A device an
 * admin retired is expected to be quiet: it is shown retired (who, when,
 * why), never silent, and flagged loudest of all if it reports again.
 */
import type { Actor } from '@stele/log';
import { ApiError, token } from './api.js';
import { h } from './dom.js';

/** Who did an admin action on a device. */
export type DevicePerson = Omit<Actor, 'groups'>;

/** A device as `GET /v1/devices` lists it (docs/API.md, "Devices"). */
export interface Device {
  id: string;
  user: { id?: string; email?: string; idp?: string; verified: boolean };
  submitter?: { type: string; id: string; name?: string };
  firstSeen: string;
  lastSeen: string;
  lastSeq: number;
  lastIndex: number;
  events: number;
  gaps: number;
  late: number;
  /** Set while an admin has it retired; `reports` counts the events it sent since. */
  retired?: { at: string; by: DevicePerson; reason: string; index: number; reports: number; firstReport?: { index: number; seq: number; received: string } };
  note?: { text: string; at: string; by: DevicePerson; index: number };
}

/** How the console names a person: e-mail, else name, else id. */
export const personLabel = (p: DevicePerson): string => p.email ?? p.name ?? p.id ?? '?';

/** A device whose last event is older than this is flagged silent. */
export const SILENT_MS = 15 * 60_000;

/** `GET /v1/devices`. */
export async function fetchDevices(): Promise<Device[]> {
  const secret = token.get();
  const response = await fetch('/v1/devices', { headers: secret ? { authorization: `Bearer ${secret}` } : {} });
  const body = (await response.json().catch(() => undefined)) as { devices?: Device[]; error?: { code: string; message: string } } | undefined;
  if (!response.ok) throw new ApiError(response.status, body?.error?.code ?? 'ERR_HTTP', body?.error?.message ?? response.statusText);
  return body?.devices ?? [];
}

/** An age for people: `42s`, `5m`, `3h 10m`, `2d 4h`. */
export function ageLabel(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const hours = Math.floor(m / 60);
  if (hours < 24) return `${hours}h ${m % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** How a device stands. */
export type DeviceStanding = 'reporting' | 'gap' | 'silent' | 'ok' | 'retired';

/**
 * How a device stands at `now`: a retired device that reported since
 * (`reporting`), else retired, else gaps, then silence, else ok.
 */
export function deviceState(d: Device, now: number): DeviceStanding {
  if (d.retired) return d.retired.reports > 0 ? 'reporting' : 'retired';
  if (d.gaps > 0) return 'gap';
  return now - Date.parse(d.lastSeen) > SILENT_MS ? 'silent' : 'ok';
}

/** Retired devices that reported first, then those with gaps, the silent ones, the rest, and the retired ones last; then by id. */
export function sortDevices(devices: readonly Device[], now: number): Device[] {
  const rank = { reporting: 0, gap: 1, silent: 2, ok: 3, retired: 4 };
  return [...devices].sort((a, b) => rank[deviceState(a, now)] - rank[deviceState(b, now)] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const stamp = (iso: string) => iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', '');

/** The device's id, with its note under it. */
export const deviceCell = (d: Device): HTMLElement =>
  h('td.device', d.note ? { title: `note by ${personLabel(d.note.by)}, ${stamp(d.note.at)} UTC` } : {}, d.id, d.note ? h('div.note', {}, d.note.text) : null);

/**
 * The device's standing in words: retired with who, when and why, and, when
 * it reported since, how often, linking to the `stele.retired-report` event.
 */
export function standingCell(d: Device, state: DeviceStanding): HTMLElement {
  if (!d.retired) return h('td.standing', {}, state);
  const { at, by, reason, reports } = d.retired;
  const who = h('div.retirement', {}, `by ${personLabel(by)}, ${stamp(at)} UTC: ${reason}`);
  if (reports === 0) return h('td.standing', { title: reason }, 'retired', who);
  const found = `#/?q=${encodeURIComponent(`action:stele.retired-report target:${d.id}`)}`;
  return h(
    'td.standing',
    { title: reason },
    h('span.flag', { role: 'alert' }, 'RETIRED, YET REPORTING'),
    h('div', {}, `${reports} event${reports === 1 ? '' : 's'} since it was retired · `, h('a', { href: found, title: 'the stele.retired-report event' }, 'the finding')),
    who,
  );
}

/** Renders the coverage table into `root`. */
export async function renderCoverage(root: HTMLElement, now = Date.now()): Promise<void> {
  root.replaceChildren(h('p.status', {}, 'Loading devices…'));
  const devices = sortDevices(await fetchDevices(), now);
  const gaps = devices.reduce((n, d) => n + d.gaps, 0);
  const silent = devices.filter((d) => !d.retired && now - Date.parse(d.lastSeen) > SILENT_MS).length;
  const retired = devices.filter((d) => d.retired).length;
  const reporting = devices.filter((d) => d.retired && d.retired.reports > 0).length;
  const rows = devices.map((d) => {
    const state = deviceState(d, now);
    const user = d.user.email ?? d.user.id ?? '?';
    const age = now - Date.parse(d.lastSeen);
    const gapQuery = `#/?q=${encodeURIComponent(`action:stele.gap target:${d.id}`)}`;
    return h(
      `tr.${state}`,
      { 'data-device': d.id, 'data-state': state },
      deviceCell(d),
      h('td', {}, user, d.user.verified ? h('span.badge', { title: 'the identity provider proved this user' }, '✓') : null),
      h('td.time', { title: d.firstSeen }, stamp(d.firstSeen)),
      h('td.time', { title: d.lastSeen }, stamp(d.lastSeen)),
      h('td.num', {}, String(d.lastSeq)),
      h('td.num', {}, String(d.events)),
      h('td.num.gaps', {}, d.gaps > 0 ? h('a', { href: gapQuery, title: 'the stele.gap events of this device' }, String(d.gaps)) : '0'),
      h('td.num.late', {}, String(d.late)),
      h('td.age', { title: `last event ${ageLabel(age)} ago` }, ageLabel(age), state === 'silent' || (state === 'gap' && age > SILENT_MS) ? h('span.flag', {}, ' silent') : null),
      standingCell(d, state),
    );
  });
  let summary = `${devices.length} device${devices.length === 1 ? '' : 's'} · ${gaps} gap${gaps === 1 ? '' : 's'} · ${silent} silent (no event for ${ageLabel(SILENT_MS)})`;
  if (retired > 0) summary += ` · ${retired} retired`;
  if (reporting > 0) summary += ` · ${reporting} retired yet reporting`;
  root.replaceChildren(
    h('h1', {}, 'Coverage'),
    h('p.status', { 'aria-live': 'polite' }, summary),
    devices.length === 0
      ? h('p.muted', {}, 'No device has sent events with a device sequence yet.')
      : h(
          'table.results.coverage',
          {},
          h('thead', {}, h('tr', {}, ...['device', 'user', 'first seen (UTC)', 'last seen (UTC)', 'last seq', 'events', 'gaps', 'late', 'heartbeat age', 'standing'].map((t) => h('th', {}, t)))),
          h('tbody', {}, ...rows),
        ),
  );
}
