/**
 * What an auditor found in evidence and proofs, end to end: a bundle whose
 * JSON repeats a key (a reader sees the first value, a parser keeps the last)
 * and a bundle of no events both fail `stele verify-bundle` (exit 1); the
 * collector answers 404 rather than build an empty bundle, and 500 rather
 * than hand out a bundle, or an event with its proof, that does not verify;
 * `stele proof` prints nothing and exits 1 for an entry that does not match
 * the signed tree.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { nodeHasher } from '@stele/store';
import { removeTempDirs, seedEvent, seedId, seedLog, stele, steleJson, tamper, tempDir } from './helpers.js';
import { startCollector, type Collector } from './sourcesProcess.js';
import { CHROMIUM, launchChromium } from './browser.js';

type Failure = { ok: false; code: string; message: string };

afterAll(removeTempDirs);

describe('stele verify-bundle and GET /v1/evidence', () => {
  let collector: Collector;
  let work: string;
  let verifierKey: string;
  /** A bundle from the collector, pretty-printed as a person would read it. */
  let text: string;

  const get = (path: string) => fetch(`${collector.url}${path}`, { headers: { authorization: `Bearer ${collector.adminToken}` } });
  const file = (name: string, content: string) => {
    const path = join(work, name);
    writeFileSync(path, content);
    return path;
  };

  beforeAll(async () => {
    work = tempDir('evidence-integrity');
    collector = await startCollector(join(work, 'data'));
    const posted = await fetch(`${collector.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${collector.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(Array.from({ length: 9 }, (_, i) => (i === 4 ? { ...seedEvent(i), reason: 'ÄRGER groß' } : seedEvent(i)))),
    });
    expect(posted.status).toBe(201);
    verifierKey = ((await (await get('/v1/log')).json()) as { verifierKey: string }).verifierKey;
    const bundle = await get('/v1/evidence?source=git');
    expect(bundle.status).toBe(200);
    text = JSON.stringify(await bundle.json(), null, 2);
    expect(text).toContain('"reason": "ÄRGER groß"');
  });

  afterAll(async () => {
    await collector?.stop();
  });

  test('the bundle as served verifies (exit 0)', async () => {
    const { code, stdout } = await stele(['verify-bundle', file('plain.json', text), '--key', verifierKey]);
    expect({ code, stdout: stdout.slice(0, 3) }).toEqual({ code: 0, stdout: 'ok:' });
  });

  test('a record with a key given twice fails with ERR_EVIDENCE_DUPLICATE_KEY (exit 1), also when the key is escaped', async () => {
    const events = (JSON.parse(text) as { events: { index: number; record: { id: string } }[] }).events;
    const position = events.findIndex((e) => e.record.id === seedId(4));
    const index = events[position]!.index;
    for (const [name, edit] of [
      ['forged.json', '"reason": "FORGED: approved by CISO", "reason": "ÄRGER groß"'],
      ['escaped.json', '"reason": "FORGED: approved by CISO", "\\u0072eason": "ÄRGER groß"'],
    ] as const) {
      const forged = file(name, text.replace('"reason": "ÄRGER groß"', edit));
      // JSON.parse alone sees the original record: the leaf hash matches.
      expect(JSON.parse(readFileSync(forged, 'utf8'))).toEqual(JSON.parse(text));
      const json = await steleJson<Failure>(['verify-bundle', forged, '--key', verifierKey, '--json']);
      expect({ code: json.code, ok: json.json.ok, failure: json.json.code }).toEqual({ code: 1, ok: false, failure: 'ERR_EVIDENCE_DUPLICATE_KEY' });
      expect(json.json.message).toContain(`events[${position}].record (the event at index ${index})`);
      const plain = await stele(['verify-bundle', forged, '--key', verifierKey]);
      expect({ code: plain.code, line: plain.stdout.split(': ').slice(0, 2).join(': ') }).toEqual({ code: 1, line: 'FAILED: ERR_EVIDENCE_DUPLICATE_KEY' });
    }
  });

  test('a key given twice inside a string value is no duplicate', async () => {
    const quoted = file('quoted.json', text.replace(/"readme": "/, '"readme": "\\"a\\": 1, \\"a\\": 2 '));
    const { code, json } = await steleJson<{ ok: boolean }>(['verify-bundle', quoted, '--key', verifierKey, '--json']);
    expect({ code, ok: json.ok }).toEqual({ code: 0, ok: true });
  });

  test('a bundle of no events fails with ERR_EVIDENCE_EMPTY (exit 1)', async () => {
    const empty = file('empty.json', JSON.stringify({ ...(JSON.parse(text) as object), events: [] }));
    const { code, json } = await steleJson<Failure>(['verify-bundle', empty, '--key', verifierKey, '--json']);
    expect({ code, ok: json.ok, failure: json.code }).toEqual({ code: 1, ok: false, failure: 'ERR_EVIDENCE_EMPTY' });
  });

  test.skipIf(!existsSync(CHROMIUM))('the offline verifier page refuses both with the same codes', async () => {
    const html = join(work, 'verify-bundle.html');
    expect((await stele(['verify-bundle', file('page-plain.json', text), '--key', verifierKey, '--html', html])).code).toBe(0);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(pathToFileURL(html).href);
      const verdict = async (path: string) => {
        await page.fill('#key', verifierKey);
        await page.setInputFiles('#bundle', path);
        await page.click('#verify');
        await page.waitForSelector('#result[data-verdict="verified"], #result[data-verdict="failed"]');
        return { verdict: await page.getAttribute('#result', 'data-verdict'), code: await page.getAttribute('#result', 'data-code') };
      };
      expect(await verdict(join(work, 'page-plain.json'))).toEqual({ verdict: 'verified', code: null });
      const forged = file('page-forged.json', text.replace('"reason": "ÄRGER groß"', '"reason": "FORGED: approved by CISO", "\\u0072eason": "ÄRGER groß"'));
      expect(await verdict(forged)).toEqual({ verdict: 'failed', code: 'ERR_EVIDENCE_DUPLICATE_KEY' });
      const empty = file('page-empty.json', JSON.stringify({ ...(JSON.parse(text) as object), events: [] }));
      expect(await verdict(empty)).toEqual({ verdict: 'failed', code: 'ERR_EVIDENCE_EMPTY' });
    } finally {
      await browser.close();
    }
  });

  test('a search that matches nothing is 404 ERR_NOT_FOUND, not an empty bundle', async () => {
    const response = await get('/v1/evidence?source=no-such-source');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('ERR_NOT_FOUND');
  });

  test('a record edited in the store (leaf hash recomputed): 500 ERR_STORE_CORRUPT, no bundle, and no event with its proof', async () => {
    expect((await get('/v1/evidence?source=kubernetes')).status).toBe(200);
    expect((await get(`/v1/events/${seedId(2)}`)).status).toBe(200);
    tamper(join(work, 'data'), (db) => {
      const idx = db.prepare('SELECT idx FROM entries WHERE id = ?').pluck().get(seedId(2)) as number;
      const data = Buffer.from((db.prepare('SELECT data FROM entries WHERE idx = ?').pluck().get(idx) as Buffer).toString('utf8').replace('prod/web-2', 'prod/web-X'));
      db.prepare('UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = ?').run(data, Buffer.from(nodeHasher.hashLeaf(data)), idx);
    });
    const response = await get('/v1/evidence?source=kubernetes');
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { code: 'ERR_STORE_CORRUPT', message: 'the stored log does not verify for these events; run stele verify' } });
    const event = await get(`/v1/events/${seedId(2)}`);
    expect(event.status).toBe(500);
    expect(await event.json()).toEqual({ error: { code: 'ERR_STORE_CORRUPT', message: 'the stored log does not verify for this event; run stele verify' } });
  });

  test('a record edited in the store, its leaf hash left: GET /v1/events/{id} answers 500 ERR_STORE_CORRUPT', async () => {
    const dir = join(tempDir('event-integrity'), 'data');
    const own = await startCollector(dir);
    try {
      const getOwn = (path: string) => fetch(`${own.url}${path}`, { headers: { authorization: `Bearer ${own.adminToken}` } });
      const posted = await fetch(`${own.url}/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${own.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(Array.from({ length: 9 }, (_, i) => seedEvent(i))),
      });
      expect(posted.status).toBe(201);
      expect((await getOwn(`/v1/events/${seedId(6)}`)).status).toBe(200);
      tamper(dir, (db) => {
        const idx = db.prepare('SELECT idx FROM entries WHERE id = ?').pluck().get(seedId(6)) as number;
        const before = (db.prepare('SELECT data FROM entries WHERE idx = ?').pluck().get(idx) as Buffer).toString('utf8');
        expect(before).toContain('"outcome":"failure"');
        db.prepare('UPDATE entries SET data = ? WHERE idx = ?').run(Buffer.from(before.replace('"outcome":"failure"', '"outcome":"success"')), idx);
      });
      const event = await getOwn(`/v1/events/${seedId(6)}`);
      expect(event.status).toBe(500);
      expect(((await event.json()) as { error: { code: string } }).error.code).toBe('ERR_STORE_CORRUPT');
    } finally {
      await own.stop();
    }
  });
});

describe('stele proof checks what it prints', () => {
  let pristine: string;

  beforeAll(async () => {
    pristine = join(tempDir('proof-integrity'), 'log');
    await seedLog(pristine, 600);
  });

  const copy = () => {
    const dir = join(tempDir('proof-integrity'), 'log');
    cpSync(pristine, dir, { recursive: true });
    return dir;
  };

  /** `stele proof` refuses: exit 1, nothing on stdout, one line naming the entry and the code. */
  async function expectRefusal(dir: string, args: string[], index: number, code: string): Promise<void> {
    const result = await stele(['proof', '--dir', dir, ...args]);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `stele proof: entry ${index} does not match the signed tree (${code}): run stele verify\n` });
  }

  const edit = (dir: string, idx: number, rehash: boolean) =>
    tamper(dir, (db) => {
      const data = Buffer.from((db.prepare('SELECT data FROM entries WHERE idx = ?').pluck().get(idx) as Buffer).toString('utf8').replace(/"seq":\d+/, '"seq":9999'));
      db.prepare('UPDATE entries SET data = ? WHERE idx = ?').run(data, idx);
      if (rehash) db.prepare('UPDATE entries SET leaf_hash = ? WHERE idx = ?').run(Buffer.from(nodeHasher.hashLeaf(data)), idx);
    });

  test('a pristine copy proves entry 100 (exit 0)', async () => {
    const { code, json } = await steleJson<{ index: number }>(['proof', '--dir', copy(), '--index', '100', '--json']);
    expect({ code, index: json.index }).toEqual({ code: 0, index: 100 });
  });

  test('an entry edited with its leaf hash recomputed: ERR_CHECKPOINT_ROOT_MISMATCH, with and without --json', async () => {
    const dir = copy();
    edit(dir, 100, true);
    await expectRefusal(dir, ['--index', '100'], 100, 'ERR_CHECKPOINT_ROOT_MISMATCH');
    await expectRefusal(dir, ['--index', '100', '--json'], 100, 'ERR_CHECKPOINT_ROOT_MISMATCH');
  });

  test('an entry edited, its leaf hash kept: ERR_LEAF_HASH_MISMATCH', async () => {
    const dir = copy();
    edit(dir, 100, false);
    await expectRefusal(dir, ['--index', '100', '--json'], 100, 'ERR_LEAF_HASH_MISMATCH');
  });

  test('a row given another id: --id finds a record of another id, ERR_ENTRY_ID_MISMATCH', async () => {
    const dir = copy();
    tamper(dir, (db) => db.prepare("UPDATE entries SET id = 'forged-id' WHERE idx = 100").run());
    await expectRefusal(dir, ['--id', 'forged-id', '--json'], 100, 'ERR_ENTRY_ID_MISMATCH');
  });

  test('a small log edited so that its tree no longer matches the checkpoint: refused when opened, exit 1', async () => {
    const dir = join(tempDir('proof-integrity'), 'small');
    await seedLog(dir, 10);
    edit(dir, 3, true);
    expect(await stele(['proof', '--dir', dir, '--index', '3', '--json'])).toEqual({
      code: 1,
      stdout: '',
      stderr: 'stele proof: the stored tree does not match the latest checkpoint; run stele verify\n',
    });
  });

  test('a history checkpoint with a flipped signature: ERR_CHECKPOINT_SIGNATURE for --size 300', async () => {
    const dir = copy();
    tamper(dir, (db) => {
      const note = db.prepare('SELECT note FROM checkpoints WHERE size = 300').pluck().get() as string;
      const lines = note.trimEnd().split('\n');
      const last = lines.pop()!;
      const at = last.lastIndexOf(' ');
      const sig = Buffer.from(last.slice(at + 1), 'base64');
      sig[14]! ^= 0x01;
      db.prepare('UPDATE checkpoints SET note = ? WHERE size = 300').run([...lines, `${last.slice(0, at + 1)}${sig.toString('base64')}`].join('\n') + '\n');
    });
    await expectRefusal(dir, ['--index', '42', '--size', '300', '--json'], 42, 'ERR_CHECKPOINT_SIGNATURE');
    expect((await stele(['proof', '--dir', dir, '--index', '42', '--json'])).code).toBe(0); // the latest checkpoint is intact
  });
});
