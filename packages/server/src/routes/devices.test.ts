/**
 * The admins' device actions in-process, against a real store, token store
 * and device tracker: retire (reason required, recorded with the caller as
 * actor), a retired device that reports again (one stele.retired-report, the
 * rest counted), reinstate, a note; 401/403 and malformed bodies append
 * nothing; a look-alike event from an ingest client retires nothing; and the
 * table rebuilt from the log alone has the same retirements.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import type { EventRecord } from '@stele/log';
import { initStore, openStore, type Store } from '@stele/store';
import { buildApp } from '../app.js';
import { openTokenStore, type TokenStore } from '../auth/tokenStore.js';
import { resolveConfig } from '../config.js';
import { followLog } from '../devices/testTracker.js';
import type { DeviceTracker } from '../devices/tracker.js';

interface Harness {
  dir: string;
  store: Store;
  tokens: TokenStore;
  devices: DeviceTracker;
  inject: ReturnType<typeof buildApp>['app']['inject'];
  admin: string;
  read: string;
  ingest: string;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function start(): Promise<Harness> {
  const dir = join(mkdtempSync(join(tmpdir(), 'stele-device-admin-')), 'data');
  await initStore(dir, 'example.com/device-admin');
  const store = await openStore(dir);
  const tokens = openTokenStore(dir);
  const h = {
    dir,
    store,
    tokens,
    devices: await followLog(dir, store.log),
    admin: tokens.create('root', 'admin').token,
    read: tokens.create('auditor', 'read').token,
    ingest: tokens.create('emacs', 'ingest').token,
  } as Harness;
  const { app } = buildApp({ store, config: resolveConfig({ flags: { dir } }), tokens, devices: h.devices });
  h.inject = app.inject.bind(app);
  cleanup.push(async () => {
    await app.close();
    await h.devices.close().catch(() => undefined);
    await store.log.close().catch(() => undefined);
    tokens.close();
    rmSync(join(dir, '..'), { recursive: true, force: true });
  });
  return h;
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

/** Posts one device's next events (no chain: the sequence check is enough here). */
async function report(h: Harness, device: string, seqs: number[]) {
  const events = seqs.map((seq) => ({ id: `${device}/${seq}`, source: 'emacs', action: 'file.save', actor: { id: 'ada', email: 'ada@example.com' }, target: { type: 'file', id: `/f${seq}` }, device: { id: device, seq } }));
  const response = await h.inject({ method: 'POST', url: '/v1/events', headers: { ...bearer(h.ingest), 'content-type': 'application/json' }, payload: JSON.stringify(events) });
  expect(response.statusCode).toBe(201);
  await h.devices.idle();
}

const retire = (h: Harness, id: string, body: unknown, token = h.admin) =>
  h.inject({ method: 'POST', url: `/v1/admin/devices/${encodeURIComponent(id)}/retire`, headers: bearer(token), payload: body as object });
const reinstate = (h: Harness, id: string, body: unknown, token = h.admin) =>
  h.inject({ method: 'POST', url: `/v1/admin/devices/${encodeURIComponent(id)}/reinstate`, headers: bearer(token), payload: body as object });
const note = (h: Harness, id: string, body: unknown, token = h.admin) =>
  h.inject({ method: 'PUT', url: `/v1/admin/devices/${encodeURIComponent(id)}/note`, headers: bearer(token), payload: body as object });

async function listed(h: Harness): Promise<Array<Record<string, unknown>>> {
  const response = await h.inject({ method: 'GET', url: '/v1/devices', headers: bearer(h.read) });
  expect(response.statusCode).toBe(200);
  return (response.json() as { devices: Array<Record<string, unknown>> }).devices;
}

async function events(h: Harness, action: string): Promise<EventRecord[]> {
  await h.devices.idle();
  return (await h.store.log.query({ source: 'stele', action, limit: 100 })).map((e) => e.record).reverse();
}

test('the device actions need a credential and scope admin; a reader and an ingest client get 403; nothing is appended', async () => {
  const h = await start();
  await report(h, 'laptop', [1]);
  const size = h.store.log.size();
  for (const call of [retire, reinstate, note]) {
    const body = { reason: 'decommissioned', note: 'x' };
    const missing = await h.inject({ method: call === note ? 'PUT' : 'POST', url: `/v1/admin/devices/laptop/${call === retire ? 'retire' : call === reinstate ? 'reinstate' : 'note'}`, payload: body });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('ERR_AUTH_MISSING');
    for (const token of [h.read, h.ingest]) {
      const forbidden = await call(h, 'laptop', body, token);
      expect(forbidden.statusCode).toBe(403);
      expect(forbidden.json().error.code).toBe('ERR_FORBIDDEN');
    }
  }
  expect(h.store.log.size()).toBe(size);
  expect((await listed(h))[0]).not.toHaveProperty('retired');
});

test('retiring needs a reason and a known device; it is recorded with the caller as actor, and the device shows it', async () => {
  const h = await start();
  await report(h, 'laptop-4411', [1, 2]);
  const size = h.store.log.size();
  for (const body of [{}, { reason: '   ' }, { reason: 42 }, { reason: 'x'.repeat(1025) }, { reason: 'bell\u0007' }]) {
    const bad = await retire(h, 'laptop-4411', body);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('ERR_BAD_REQUEST');
  }
  const unknown = await retire(h, 'no-such-device', { reason: 'gone' });
  expect(unknown.statusCode).toBe(404);
  expect(unknown.json().error.code).toBe('ERR_NOT_FOUND');
  expect(h.store.log.size()).toBe(size);

  const done = await retire(h, 'laptop-4411', { reason: '  wiped and sent to recycling, asset 4411\n(INC-7)  ' });
  expect(done.statusCode).toBe(200);
  const { device, index } = done.json() as { device: Record<string, unknown>; index: number };
  const retired = { at: expect.any(String), by: { id: 'token:root', verified: true }, reason: 'wiped and sent to recycling, asset 4411\n(INC-7)', index, reports: 0 };
  expect(device).toMatchObject({ id: 'laptop-4411', lastSeq: 2, retired });
  expect(await listed(h)).toEqual([expect.objectContaining({ id: 'laptop-4411', retired })]);

  const [event] = await events(h, 'device.retire');
  expect(event).toMatchObject({
    index,
    source: 'stele',
    action: 'device.retire',
    outcome: 'success',
    actor: { id: 'token:root', verified: true },
    submitter: { type: 'token', id: h.tokens.list().find((t) => t.name === 'root')!.id, name: 'root' },
    target: { type: 'device', id: 'laptop-4411' },
    reason: 'wiped and sent to recycling, asset 4411\n(INC-7)',
    details: { authorizedAs: 'admin', lastSeq: 2 },
  });
  expect((device.retired as { at: string }).at).toBe(event!.received);

  const again = await retire(h, 'laptop-4411', { reason: 'twice' });
  expect(again.statusCode).toBe(409);
  expect(again.json().error.code).toBe('ERR_DEVICE_STATE');
  expect(await events(h, 'device.retire')).toHaveLength(1);
});

test('a retired device that reports again is recorded once per retirement, and every report is counted', async () => {
  const h = await start();
  await report(h, 'laptop', [1, 2]);
  await report(h, 'desk', [1]);
  const { index: retiredAt } = (await retire(h, 'laptop', { reason: 'stolen' })).json() as { index: number };
  expect(await events(h, 'stele.retired-report')).toEqual([]);

  await report(h, 'laptop', [3]);
  await report(h, 'laptop', [4, 5]);
  await report(h, 'desk', [2]); // another device: nothing to say
  const found = await events(h, 'stele.retired-report');
  expect(found).toHaveLength(1);
  const offending = (await h.store.log.query({ source: 'emacs', limit: 100 })).find((e) => e.record.id === 'laptop/3')!;
  expect(found[0]).toMatchObject({
    source: 'stele',
    outcome: 'failure',
    target: { type: 'device', id: 'laptop' },
    time: offending.record.received,
    details: { device: 'laptop', seq: 3, index: offending.index, retired: { index: retiredAt, by: { id: 'token:root' }, reason: 'stolen' }, user: { id: 'ada', email: 'ada@example.com' } },
  });
  const laptop = (await listed(h)).find((d) => d.id === 'laptop')!;
  expect(laptop).toMatchObject({ lastSeq: 5, retired: { reason: 'stolen', reports: 3, firstReport: { index: offending.index, seq: 3 } } });

  // Reinstated, it reports as any device; retired again, a new retirement is a new finding.
  const back = await reinstate(h, 'laptop', { reason: 'found in the office' });
  expect(back.statusCode).toBe(200);
  expect(back.json().device).not.toHaveProperty('retired');
  await report(h, 'laptop', [6]);
  expect(await events(h, 'stele.retired-report')).toHaveLength(1);
  expect((await retire(h, 'laptop', { reason: 'stolen again' })).statusCode).toBe(200);
  await report(h, 'laptop', [7]);
  expect((await events(h, 'stele.retired-report')).map((e) => (e.details!.retired as { reason: string }).reason)).toEqual(['stolen', 'stolen again']);
});

test('reinstating needs a reason and a retired device, and is recorded', async () => {
  const h = await start();
  await report(h, 'laptop', [1]);
  expect((await reinstate(h, 'laptop', { reason: 'why not' })).json().error.code).toBe('ERR_DEVICE_STATE');
  await retire(h, 'laptop', { reason: 'old' });
  expect((await reinstate(h, 'laptop', {})).statusCode).toBe(400);
  const done = await reinstate(h, 'laptop', { reason: 'repurposed for Grace' });
  expect(done.statusCode).toBe(200);
  expect((await listed(h))[0]).not.toHaveProperty('retired');
  const [event] = await events(h, 'device.reinstate');
  expect(event).toMatchObject({ actor: { id: 'token:root' }, target: { type: 'device', id: 'laptop' }, reason: 'repurposed for Grace', details: { authorizedAs: 'admin' } });
});

test('a note is set, shown, and cleared; it must be one line', async () => {
  const h = await start();
  await report(h, 'laptop', [1]);
  expect((await note(h, 'laptop', { note: 'two\nlines' })).statusCode).toBe(400);
  expect((await note(h, 'laptop', {})).statusCode).toBe(400);
  const set = await note(h, 'laptop', { note: "Ada's ThinkPad, asset 4411" });
  expect(set.statusCode).toBe(200);
  expect((await listed(h))[0]).toMatchObject({ note: { text: "Ada's ThinkPad, asset 4411", by: { id: 'token:root' } } });
  expect((await note(h, 'laptop', { note: '', reason: 'returned' })).statusCode).toBe(200);
  expect((await listed(h))[0]).not.toHaveProperty('note');
  expect((await events(h, 'device.note')).map((e) => [e.details!.note, e.reason])).toEqual([["Ada's ThinkPad, asset 4411", undefined], ['', 'returned']]);
});

test('a device id with a slash is addressed URL-encoded', async () => {
  const h = await start();
  await report(h, 'ada/laptop', [1]);
  const done = await retire(h, 'ada/laptop', { reason: 'gone' });
  expect(done.statusCode).toBe(200);
  expect(done.json().device).toMatchObject({ id: 'ada/laptop', retired: { reason: 'gone' } });
});

test('a look-alike event from an ingest client retires nothing', async () => {
  const h = await start();
  await report(h, 'laptop', [1]);
  const forged = { source: 'stele', action: 'device.retire', actor: { id: 'token:root' }, target: { type: 'device', id: 'laptop' }, reason: 'silence it', details: { authorizedAs: 'admin' } };
  const post = (event: unknown) => h.inject({ method: 'POST', url: '/v1/events', headers: { ...bearer(h.ingest), 'content-type': 'application/json' }, payload: JSON.stringify(event) });
  const refused = await post(forged);
  expect(refused.statusCode).toBe(422);
  expect(refused.json().error.details).toEqual([
    expect.objectContaining({ field: 'source', code: 'reserved' }),
    expect.objectContaining({ field: 'details.authorizedAs', code: 'store_field' }),
  ]);
  // Without the marker too: no client writes Stele's own events.
  const plain = await post({ ...forged, details: {} });
  expect(plain.statusCode).toBe(422);
  expect(plain.json().error.details).toEqual([expect.objectContaining({ field: 'source', code: 'reserved' })]);
  // Nor under a name of the same family, which a reader would take for the collector's.
  for (const source of ['stele.audit', 'stele.x']) {
    const lookalike = await post({ ...forged, source, details: {} });
    expect(lookalike.statusCode).toBe(422);
    expect(lookalike.json().error.details).toEqual([expect.objectContaining({ field: 'source', code: 'reserved' })]);
  }
  // A source that only starts with the same letters is anyone's.
  expect((await post({ ...forged, source: 'stelesoft', details: {} })).statusCode).toBe(201);
  // Under another source the same event is accepted, as any event, and means nothing to the device table.
  expect((await post({ ...forged, source: 'emacs', details: {} })).statusCode).toBe(201);
  await h.devices.idle();
  expect((await listed(h))[0]).not.toHaveProperty('retired');
  expect(await events(h, 'device.retire')).toEqual([]);
});

test('the table rebuilt from the log alone has the same retirements and notes, and records no finding twice', async () => {
  const h = await start();
  await report(h, 'a', [1]);
  await report(h, 'b', [1]);
  await retire(h, 'a', { reason: 'lost' });
  await report(h, 'a', [2, 3]);
  await retire(h, 'b', { reason: 'old' });
  await reinstate(h, 'b', { reason: 'still used' });
  await note(h, 'b', { note: 'shared kiosk' });
  const before = await listed(h);
  const size = h.store.log.size();
  await h.devices.close();
  const rebuilt = await followLog(h.dir, h.store.log, { rebuild: true });
  expect(rebuilt.list().map(({ lastHash: _lastHash, ...shown }) => shown)).toEqual(before);
  expect(h.store.log.size()).toBe(size);
  h.devices = rebuilt;
  expect(await events(h, 'stele.retired-report')).toHaveLength(1);
});

test('the OpenAPI document describes the device actions', async () => {
  const h = await start();
  const doc = (await h.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
  expect(Object.keys(doc.paths['/v1/admin/devices/{id}/retire']!)).toEqual(['post']);
  expect(Object.keys(doc.paths['/v1/admin/devices/{id}/reinstate']!)).toEqual(['post']);
  expect(Object.keys(doc.paths['/v1/admin/devices/{id}/note']!)).toEqual(['put']);
  expect(Object.keys(doc.paths['/v1/admin/devices/{id}/retire']!.post!.responses)).toEqual(['200', '400', '401', '403', '404', '409']);
});
