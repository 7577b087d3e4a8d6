/**
 * `stele demo`: a fresh log holding incident INC-42 from every source, that
 * verifies, that the ticket search finds across sources, and that is never
 * poured into a log that already exists.
 */
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { removeTempDirs, stele, steleJson, tempDir } from './helpers.js';

afterAll(() => removeTempDirs());

test('stele demo fills a fresh log with an incident the ticket search finds across sources', async () => {
  const dir = join(tempDir('demo'), 'data');
  const made = await steleJson<{ events: number; size: number; verifierKey: string }>(['demo', '--dir', dir, '--json']);
  expect(made.code).toBe(0);
  expect(made.json.events).toBeGreaterThanOrEqual(10);
  expect(made.json.size).toBe(made.json.events);
  expect((await stele(['verify', '--dir', dir])).code).toBe(0);

  const found = await stele(['query', '--dir', dir, '--ticket', 'INC-42', '--json']);
  expect(found.code).toBe(0);
  const sources = new Set(found.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { source: string }).source));
  expect([...sources].sort()).toEqual(['emacs', 'github', 'slack']);
  const all = (await stele(['query', '--dir', dir, '--since', '12h', '--json'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as { source: string; action: string });
  expect(new Set(all.map((e) => e.source))).toEqual(new Set(['emacs', 'kubernetes', 'cloudtrail', 'slack', 'github']));
  expect(all.map((e) => e.action)).toEqual(expect.arrayContaining(['file.save', 'package.install', 'vc.push.force', 'change.approve']));

  const again = await stele(['demo', '--dir', dir]);
  expect(again.code).toBe(2);
});
