/**
 * Coverage (`#/coverage`): every device that sent events, from
 * `GET /v1/devices`: its user, first and last seen, last sequence number,
 * gaps, late events and how long ago it was last heard from, so an auditor
 * can show that logging was on. Devices with gaps are highlighted; devices
 * quiet for longer than {@link SILENT_MS} are flagged silent.
 */
import { ApiError, token } from './api.js';
import { h } from './dom.js';

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
}

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

/** How a device stands at `now`: gaps first, then silence, else ok. */
export function deviceState(d: Device, now: number): 'gap' | 'silent' | 'ok' {
  if (d.gaps > 0) return 'gap';
  return now - Date.parse(d.lastSeen) > SILENT_MS ? 'silent' : 'ok';
}

/** Devices with gaps first, then the silent ones, then by id. */
export function sortDevices(devices: readonly Device[], now: number): Device[] {
  const rank = { gap: 0, silent: 1, ok: 2 };
  return [...devices].sort((a, b) => rank[deviceState(a, now)] - rank[deviceState(b, now)] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const stamp = (iso: string) => iso.replace('T', ' ').replace(/\.\d+/, '').replace('Z', '');

/** Renders the coverage table into `root`. */
export async function renderCoverage(root: HTMLElement, now = Date.now()): Promise<void> {
  root.replaceChildren(h('p.status', {}, 'Loading devices…'));
  const devices = sortDevices(await fetchDevices(), now);
  const gaps = devices.reduce((n, d) => n + d.gaps, 0);
  const silent = devices.filter((d) => now - Date.parse(d.lastSeen) > SILENT_MS).length;
  const rows = devices.map((d) => {
    const state = deviceState(d, now);
    const user = d.user.email ?? d.user.id ?? '?';
    const age = now - Date.parse(d.lastSeen);
    const gapQuery = `#/?q=${encodeURIComponent(`action:stele.gap target:${d.id}`)}`;
    return h(
      `tr.${state}`,
      { 'data-device': d.id, 'data-state': state },
      h('td', {}, d.id),
      h('td', {}, user, d.user.verified ? h('span.badge', { title: 'the identity provider proved this user' }, '✓') : null),
      h('td.time', { title: d.firstSeen }, stamp(d.firstSeen)),
      h('td.time', { title: d.lastSeen }, stamp(d.lastSeen)),
      h('td.num', {}, String(d.lastSeq)),
      h('td.num', {}, String(d.events)),
      h('td.num.gaps', {}, d.gaps > 0 ? h('a', { href: gapQuery, title: 'the stele.gap events of this device' }, String(d.gaps)) : '0'),
      h('td.num.late', {}, String(d.late)),
      h('td.age', { title: `last event ${ageLabel(age)} ago` }, ageLabel(age), state === 'silent' || (state === 'gap' && age > SILENT_MS) ? h('span.flag', {}, ' silent') : null),
    );
  });
  const summary = `${devices.length} device${devices.length === 1 ? '' : 's'} · ${gaps} gap${gaps === 1 ? '' : 's'} · ${silent} silent (no event for ${ageLabel(SILENT_MS)})`;
  root.replaceChildren(
    h('h1', {}, 'Coverage'),
    h('p.status', { 'aria-live': 'polite' }, summary),
    devices.length === 0
      ? h('p.muted', {}, 'No device has sent events with a device sequence yet.')
      : h(
          'table.results.coverage',
          {},
          h('thead', {}, h('tr', {}, ...['device', 'user', 'first seen (UTC)', 'last seen (UTC)', 'last seq', 'events', 'gaps', 'late', 'heartbeat age'].map((t) => h('th', {}, t)))),
          h('tbody', {}, ...rows),
        ),
  );
}
