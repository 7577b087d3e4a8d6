/**
 * `stele append` into a local log takes events as the collector takes them
 * from a service: a reserved source or a details key the collector sets is
 * refused (exit 2, one line naming the line, nothing appended), a claimed
 * `verified: true` is kept only as a claim, and each event records the
 * person at the terminal as its submitter, as `stele token create` does.
 */
import { join } from 'node:path';
import { userInfo, hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { removeTempDirs, requireBuild, stele, steleJson, tempDir } from './helpers.js';

let dir: string;
beforeAll(async () => {
  requireBuild();
  dir = join(tempDir('append-local'), 'log');
  expect((await stele(['init', '--dir', dir, '--origin', 'example.com/append-local'])).code).toBe(0);
});
afterAll(removeTempDirs);

const event = (extra: Record<string, unknown>) => JSON.stringify({ source: 'emacs', action: 'file.save', actor: { id: 'ada' }, ...extra });
const size = async () => (await steleJson<{ size: number }>(['verify', '--dir', dir, '--json'])).json.size;

describe('stele append into a local log', () => {
  test.each([
    ['source stele', event({ source: 'stele', action: 'token.create' }), 'line 2: source: is reserved', '[reserved]'],
    ['a source under stele.', event({ source: 'stele.audit' }), 'line 2: source: is reserved', '[reserved]'],
    ['details.authorizedAs', event({ details: { authorizedAs: 'admin' } }), 'line 2: details.authorizedAs: is set by the collector', '[store_field]'],
  ])('%s is refused with exit 2 naming the line; nothing is appended', async (_name, bad, words, code) => {
    const before = await size();
    const { code: exit, stdout, stderr } = await stele(['append', '--dir', dir, '-'], { input: `${event({ id: `ok-${code.slice(1, -1)}` })}\n${bad}\n` });
    expect({ exit, stdout, lines: stderr.trimEnd().split('\n').length }).toEqual({ exit: 2, stdout: '', lines: 1 });
    expect(stderr).toContain(words);
    expect(stderr).toContain(code);
    expect(await size()).toBe(before);
  });

  test('an event is appended with the local submitter; a claimed verified actor is kept only as a claim', async () => {
    const appended = await stele(['append', '--dir', dir, '-'], { input: event({ id: 'claims', actor: { id: 'ada', verified: true } }) + '\n' });
    expect(appended.code, appended.stderr).toBe(0);
    // --json writes a record a line; the newest first.
    const { json: record } = await steleJson<Record<string, unknown>>(['query', '--dir', dir, '--json', '--limit', '1']);
    expect(record).toMatchObject({
      id: 'claims',
      actor: { id: 'ada', verified: false },
      details: { claimedActor: { id: 'ada', verified: true } },
      submitter: { type: 'local', id: `${userInfo().username}@${hostname()}` },
    });
    // The same line again is a duplicate, not a conflict: the bound event is what was stored.
    const again = await steleJson<{ appended: number; duplicates: number }>(['append', '--dir', dir, '--json', '-'], { input: event({ id: 'claims', actor: { id: 'ada', verified: true } }) + '\n' });
    expect({ code: again.code, appended: again.json.appended, duplicates: again.json.duplicates }).toEqual({ code: 0, appended: 0, duplicates: 1 });
  });
});
