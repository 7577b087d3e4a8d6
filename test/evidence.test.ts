/**
 * Evidence bundles end to end: a real `stele serve` builds one from a search
 * (GET /v1/evidence), it is saved to a file and `stele verify-bundle` proves it
 * offline against the pinned verifier key; one flipped byte makes it fail.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { removeTempDirs, seedEvent, stele, steleJson, tempDir } from './helpers.js';
import { startCollector, type Collector } from './sourcesProcess.js';

describe('stele verify-bundle', () => {
  let collector: Collector;
  let work: string;
  let verifierKey: string;
  let firstSize: number;

  const api = async (path: string, init: RequestInit = {}) => {
    const response = await fetch(`${collector.url}${path}`, { ...init, headers: { authorization: `Bearer ${collector.adminToken}`, 'content-type': 'application/json' } });
    expect(response.ok).toBe(true);
    return (await response.json()) as Record<string, unknown>;
  };

  beforeAll(async () => {
    work = tempDir('evidence');
    collector = await startCollector(join(work, 'data'));
    // The log keeps at most one checkpoint a second in its history: space the appends so the first is kept.
    const second = () => new Promise((resolve) => setTimeout(resolve, 1100));
    await second();
    firstSize = (await api('/v1/events', { method: 'POST', body: JSON.stringify(Array.from({ length: 10 }, (_, i) => seedEvent(i))) })).size as number;
    await second();
    await api('/v1/events', { method: 'POST', body: JSON.stringify(Array.from({ length: 10 }, (_, i) => seedEvent(10 + i))) });
    verifierKey = (await api('/v1/log')).verifierKey as string;
  });

  afterAll(async () => {
    await collector?.stop();
    removeTempDirs();
  });

  test('a bundle from the API verifies offline; a flipped byte fails it (exit 1); not JSON is exit 2', async () => {
    const bundle = await api(`/v1/evidence?source=emacs&limit=50&since_size=${firstSize}`);
    expect((bundle.events as unknown[]).length).toBeGreaterThan(0);
    expect(bundle.checkpoints).toHaveLength(2);
    const file = join(work, 'bundle.json');
    writeFileSync(file, JSON.stringify(bundle, null, 2));

    const ok = await stele(['verify-bundle', file, '--key', verifierKey]);
    expect(ok.stdout).toMatch(/^ok: \d+ events proven/);
    expect(ok.code).toBe(0);
    const json = await steleJson<{ ok: boolean; sizes: number[] }>(['verify-bundle', file, '--json']);
    expect(json.code).toBe(0);
    expect(json.json.sizes).toEqual([firstSize, expect.any(Number)]); // the second POST also logs device gaps

    // One byte of one record changed: that event is no longer proven.
    const text = readFileSync(file, 'utf8');
    const at = text.indexOf('"file.save"') + 2;
    const flipped = join(work, 'flipped.json');
    writeFileSync(flipped, text.slice(0, at) + (text[at] === 'f' ? 'F' : 'f') + text.slice(at + 1));
    const bad = await stele(['verify-bundle', flipped, '--key', verifierKey]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/FAILED index \d+ .*ERR_LEAF/);

    // Another log's key: refused.
    const other = await steleJson<{ verifierKey: string }>(['init', '--dir', join(work, 'other'), '--origin', 'example.com/other', '--json']);
    expect((await stele(['verify-bundle', file, '--key', other.json.verifierKey])).code).toBe(1);

    writeFileSync(join(work, 'garbage.json'), '{"format":');
    expect((await stele(['verify-bundle', join(work, 'garbage.json')])).code).toBe(2);
    expect((await stele(['verify-bundle'])).code).toBe(2);
  });
});
