/**
 * Device sequences through the collector (in-process): chained events pass,
 * a skipped number or a broken chain records exactly one `stele.gap`, and
 * retries, duplicates and a batch sent out of order record none. The device
 * table is rebuilt from the log alone to the same state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { afterEach, describe, expect, test } from 'vitest';
import { validateEvent, type EventRecord } from '@stele/log';
import { initStore, openStore, parseRecord, type Store } from '@stele/store';
import { buildApp } from '../app.js';
import { openTokenStore, type TokenStore } from '../auth/tokenStore.js';
import { resolveConfig } from '../config.js';
import { actionOf, applyAction, reportRetired, userOf } from './action.js';
import { checkNext, checkOrder, type DeviceEvent, type DeviceState, type Gap, type Retirement } from './chain.js';
import { followLog } from './testTracker.js';
import { chainHash, type DeviceTracker } from './tracker.js';

interface Harness {
  dir: string;
  store: Store;
  tokens: TokenStore;
  app: FastifyInstance;
  devices: DeviceTracker;
  token: string;
}
const open: Harness[] = [];

async function start(): Promise<Harness> {
  const dir = join(mkdtempSync(join(tmpdir(), 'stele-devices-')), 'data');
  await initStore(dir, 'example.com/devices');
  const store = await openStore(dir);
  const tokens = openTokenStore(dir);
  const devices = await followLog(dir, store.log);
  const { app } = buildApp({ store, config: resolveConfig({ flags: { dir } }), tokens, devices });
  const h = { dir, store, tokens, app, devices, token: tokens.create('emacs', 'admin').token };
  open.push(h);
  return h;
}

afterEach(async () => {
  for (const h of open.splice(0)) {
    await h.app.close();
    await h.devices.close().catch(() => undefined);
    await h.store.log.close();
    h.tokens.close();
    rmSync(join(h.dir, '..'), { recursive: true, force: true });
  }
});

/** A device as Stele's clients are: numbers its events and chains each to the one before, as sent. */
function device(id: string) {
  let seq = 0;
  let prev: string | undefined;
  return {
    /** The next event; `skip` numbers are lost, `prev` overrides the chain. */
    next(options: { skip?: number; prev?: string } = {}): Record<string, unknown> {
      seq += 1 + (options.skip ?? 0);
      const event: Record<string, unknown> = {
        id: `${id}/${seq}`,
        time: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
        source: 'emacs',
        action: 'file.save',
        actor: { id: 'ada', email: 'ada@example.com' },
        target: { type: 'file', id: `/home/ada/f${seq}.el` },
        device: { id, seq, ...((options.prev ?? prev) !== undefined && { prev: options.prev ?? prev }) },
      };
      const checked = validateEvent(event);
      if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
      prev = chainHash(checked.event as unknown as EventRecord);
      return event;
    },
  };
}

async function post(h: Harness, body: unknown) {
  const response = await h.app.inject({ method: 'POST', url: '/v1/events', headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  expect(response.statusCode).toBe(201);
  await h.devices.idle();
  return response.json() as { entries: Array<{ index: number; duplicate?: boolean }> };
}

async function gaps(h: Harness): Promise<EventRecord[]> {
  await h.devices.idle();
  return (await h.store.log.query({ source: 'stele', action: 'stele.gap', limit: 100 })).map((e) => e.record).reverse();
}

async function listed(h: Harness) {
  const response = await h.app.inject({ method: 'GET', url: '/v1/devices', headers: { authorization: `Bearer ${h.token}` } });
  expect(response.statusCode).toBe(200);
  return (response.json() as { devices: Array<Record<string, unknown>> }).devices;
}

describe('device sequences', () => {
  test('a chained stream records no gap; GET /v1/devices shows the device, its user, last sequence', async () => {
    const h = await start();
    const d = device('emacs-7f3a');
    await post(h, [d.next(), d.next()]);
    await post(h, d.next());
    expect(await gaps(h)).toEqual([]);
    expect(await listed(h)).toEqual([
      expect.objectContaining({ id: 'emacs-7f3a', lastSeq: 3, events: 3, gaps: 0, late: 0, user: { id: 'ada', email: 'ada@example.com', verified: false }, submitter: expect.objectContaining({ type: 'token', name: 'emacs' }) }),
    ]);
  });

  test('a skipped sequence number records exactly one stele.gap with the missing range', async () => {
    const h = await start();
    const d = device('emacs-1');
    await post(h, [d.next(), d.next()]);
    const { entries } = await post(h, d.next({ skip: 2 })); // 3 and 4 never arrive
    await post(h, d.next());
    const found = await gaps(h);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ source: 'stele', action: 'stele.gap', outcome: 'failure', target: { type: 'device', id: 'emacs-1' } });
    expect(found[0]!.details).toMatchObject({ device: 'emacs-1', kind: 'seq', missing: { from: 3, to: 4 }, seq: 5, index: entries[0]!.index });
    expect(await listed(h)).toEqual([expect.objectContaining({ id: 'emacs-1', lastSeq: 6, gaps: 1 })]);
  });

  test('a broken chain (prev is not the previous event) records exactly one stele.gap', async () => {
    const h = await start();
    const d = device('cli-2');
    await post(h, [d.next(), d.next()]);
    await post(h, d.next({ prev: 'f'.repeat(64) }));
    await post(h, d.next());
    const found = await gaps(h);
    expect(found).toHaveLength(1);
    expect(found[0]!.details).toMatchObject({ device: 'cli-2', kind: 'chain', seq: 3, prev: 'f'.repeat(64) });
  });

  test('a first event above 1 is a gap from 1', async () => {
    const h = await start();
    const d = device('late-joiner');
    await post(h, d.next({ skip: 3 }));
    const found = await gaps(h);
    expect(found.map((g) => g.details)).toEqual([expect.objectContaining({ kind: 'seq', missing: { from: 1, to: 3 } })]);
  });

  test('retries are no gaps: the same events again (duplicates), and an event resent under a new id (late)', async () => {
    const h = await start();
    const d = device('emacs-r');
    const batch = [d.next(), d.next(), d.next()];
    await post(h, batch);
    const again = await post(h, batch);
    expect(again.entries.every((e) => e.duplicate)).toBe(true);
    await post(h, { ...batch[1], id: 'emacs-r/2-resent' });
    await post(h, d.next());
    expect(await gaps(h)).toEqual([]);
    expect(await listed(h)).toEqual([expect.objectContaining({ lastSeq: 4, events: 4, gaps: 0, late: 1 })]);
  });

  test('events out of order within one request are checked in sequence order', async () => {
    const h = await start();
    const d = device('emacs-o');
    const [a, b, c] = [d.next(), d.next(), d.next()];
    await post(h, [c, a, b]);
    expect(await gaps(h)).toEqual([]);
  });

  test('two devices are independent', async () => {
    const h = await start();
    const [x, y] = [device('x'), device('y')];
    await post(h, [x.next(), y.next(), x.next(), y.next({ skip: 1 })]);
    expect((await gaps(h)).map((g) => g.details?.device)).toEqual(['y']);
  });

  test('the table is rebuilt from the log alone: same devices, same gap counts, no gap recorded twice', async () => {
    const h = await start();
    const d = device('emacs-b');
    await post(h, [d.next(), d.next()]);
    await post(h, d.next({ skip: 1 }));
    await post(h, d.next({ prev: '0'.repeat(64) }));
    const before = await listed(h);
    const size = h.store.log.size();
    await h.devices.close();
    const rebuilt = await followLog(h.dir, h.store.log, { rebuild: true });
    expect(rebuilt.list()).toEqual(before.map((d) => expect.objectContaining({ id: d.id, lastSeq: d.lastSeq, gaps: d.gaps, events: d.events, late: d.late })));
    expect(h.store.log.size()).toBe(size);
    expect(await gaps(h)).toHaveLength(2);
    h.devices = rebuilt;
  });

  test('property: the table is what checkNext makes of each request\'s events in check order, one by one (late, in order, gaps, chains, retirements)', async () => {
    const h = await start();
    let run = 0;
    const spec = fc.record({ device: fc.integer({ min: 0, max: 1 }), seq: fc.integer({ min: 1, max: 7 }), prev: fc.constantFrom('none', 'chain', 'chain', 'wrong') });
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('events' as const), events: fc.array(spec, { minLength: 1, maxLength: 8 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('retire' as const, 'reinstate' as const), device: fc.integer({ min: 0, max: 1 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 5 }), async (ops) => {
        run++;
        const name = (d: number) => `p${run}-${d}`;
        const sentHash = new Map<string, string>(); // each device's latest event as built, for 'chain'
        const expected = new Map<string, DeviceState>();
        const found: Gap[] = [];
        let n = 0;
        for (const o of ops) {
          if (o.kind !== 'events') {
            const id = name(o.device);
            const state = expected.get(id);
            if (!state || (o.kind === 'retire') === (state.retired !== undefined)) continue; // the route refuses these
            const response = await h.app.inject({ method: 'POST', url: `/v1/admin/devices/${id}/${o.kind}`, headers: { authorization: `Bearer ${h.token}` }, payload: { reason: 'test' } });
            expect(response.statusCode).toBe(200);
            await h.devices.idle();
            const { index } = response.json() as { index: number };
            const [entry] = await h.store.log.driver.readEntries(index, index + 1);
            expected.set(id, applyAction(state, actionOf(parseRecord(entry!.bytes))!)!);
            continue;
          }
          const body = o.events.map((e) => {
            const id = name(e.device);
            const prev = e.prev === 'wrong' ? 'e'.repeat(64) : e.prev === 'chain' ? sentHash.get(id) : undefined;
            const event = { id: `${id}/${++n}`, source: 'emacs', action: 'file.save', actor: { id: 'ada' }, device: { id, seq: e.seq, ...(prev !== undefined && { prev }) } };
            const checked = validateEvent(event);
            if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
            sentHash.set(id, chainHash(checked.event as unknown as EventRecord));
            return event;
          });
          const { entries } = await post(h, body);
          const sightings: Array<DeviceEvent & { record: EventRecord }> = [];
          for (const { index } of entries) {
            const [entry] = await h.store.log.driver.readEntries(index, index + 1);
            const record = parseRecord(entry!.bytes);
            sightings.push({ record, device: record.device!, index, received: record.received, hash: chainHash(record), user: userOf(record.actor), submitter: record.submitter });
          }
          for (const event of sightings.sort(checkOrder)) {
            const step = checkNext(expected.get(event.device.id), event);
            let state = step.state;
            if (step.gap) found.push(step.gap);
            if (state.retired) state = reportRetired(state as DeviceState & { retired: Retirement }, event).state;
            expected.set(event.device.id, state);
          }
        }
        for (const [id, state] of expected) expect(h.devices.get(id)).toEqual({ ...state, gaps: found.filter((g) => g.device === id).length });
        const recorded = (await h.store.log.query({ source: 'stele', action: 'stele.gap', limit: 1000 })).map((e) => e.record.details!).filter((d) => (d.device as string).startsWith(`p${run}-`));
        const gapKey = (g: { device?: unknown; index?: unknown; kind?: unknown; seq?: unknown }) => `${String(g.device)} ${String(g.index)} ${String(g.kind)} ${String(g.seq)}`;
        expect(recorded.map(gapKey).sort()).toEqual(found.map(gapKey).sort());
      }),
      { numRuns: 40 },
    );
  });
});
