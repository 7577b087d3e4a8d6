import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { initStore, openStore, type Store } from '@stele/store';
import { startArchive } from './archiveTask.js';
import { ConfigError, DEFAULT_CONFIG, resolveConfig } from './config.js';

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (err) {
    return (err as ConfigError).code;
  }
  return undefined;
};

test('the [archive] settings from a file, and every STELE_ARCHIVE_* variable', () => {
  expect(DEFAULT_CONFIG.archive).toMatchObject({ to: '', cadenceSeconds: 300, retentionDays: 0, latest: true, allowUnlocked: false });
  const file = { archive: { to: 's3://audit-archive/prod', mode: 'GOVERNANCE', retentionDays: 30 } };
  expect(resolveConfig({ file }).archive).toMatchObject({ to: 's3://audit-archive/prod', mode: 'GOVERNANCE', retentionDays: 30, cadenceSeconds: 300 });
  const env = {
    STELE_ARCHIVE_TO: 'file:///mnt/worm', STELE_ARCHIVE_CADENCE_SECONDS: '60', STELE_ARCHIVE_MODE: 'COMPLIANCE', STELE_ARCHIVE_RETENTION_DAYS: '7',
    STELE_ARCHIVE_LATEST: 'false', STELE_ARCHIVE_ALLOW_UNLOCKED: 'true', STELE_ARCHIVE_ENDPOINT: 'http://127.0.0.1:7480',
    STELE_ARCHIVE_REGION: 'eu-west-1', STELE_ARCHIVE_PATH_STYLE: 'on',
  };
  expect(resolveConfig({ file, env }).archive).toEqual({
    to: 'file:///mnt/worm', cadenceSeconds: 60, mode: 'COMPLIANCE', retentionDays: 7, latest: false, allowUnlocked: true,
    endpoint: 'http://127.0.0.1:7480', region: 'eu-west-1', pathStyle: true,
  });
});

test('a bad archive setting stops the collector with ERR_CONFIG', () => {
  for (const archive of [
    { to: 'bucket/prefix' }, { to: 's3://Bad_Bucket' }, { mode: 'compliance' }, { retentionDays: -1 }, { retentionDays: 36_501 },
    { cadenceSeconds: 0 }, { cadenceSeconds: 86_401 }, { bucket: 'x' }, { latest: 'sometimes' },
  ]) {
    expect(codeOf(() => resolveConfig({ file: { archive } })), JSON.stringify(archive)).toBe('ERR_CONFIG');
  }
});

let dir: string | undefined;
let store: Store | undefined;
afterEach(async () => {
  await store?.log.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  store = undefined;
  dir = undefined;
});

test('startArchive refuses a target it cannot reach, and archives a last time on close(true)', async () => {
  dir = mkdtempSync(join(tmpdir(), 'stele-archive-task-'));
  await initStore(join(dir, 'log'), 'example.com/archive-task');
  store = await openStore(join(dir, 'log'));
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined } as never;
  const config = { ...DEFAULT_CONFIG.archive, to: `file://${join(dir, 'missing')}` };
  await expect(startArchive(config, store, silent)).rejects.toMatchObject({ code: 'ERR_ARCHIVE_UNREACHABLE' });

  const worm = mkdtempSync(join(dir, 'worm-'));
  const archive = await startArchive({ ...config, to: `file://${worm}`, cadenceSeconds: 3600 }, store, silent);
  await store.log.append([{ source: 'emacs', action: 'file.save', actor: { id: 'ada' }, target: { type: 'file', id: '/f' } }]);
  await archive.close(true);
  expect(readFileSync(join(worm, 'checkpoints/1'), 'utf8')).toBe(store.log.checkpoint());
});
