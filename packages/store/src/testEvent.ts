/**
 * Test support for the store's unit tests. Not exported from the package.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { recordBytes, toRecord, validateEvent } from '@stele/log';
import { indexRowOf } from './indexRow.js';
import type { UnsealedEntry } from './seal.js';
import { writerSettings } from './writer/writerThread.js';

/** The `i`th event of a test log: a file save by one of three users; `extra` overrides fields. */
export const event = (i: number, extra: Record<string, unknown> = {}) => ({
  source: 'emacs',
  action: 'file.save',
  time: '2026-11-27T10:00:00.000Z',
  actor: { email: `user${i % 3}@example.com` },
  target: { type: 'file', id: `/home/u/f${i}.el` },
  ...extra,
});

/**
 * The `i`th entry of a test log as the log service sequences it (index `i`,
 * id `s-i` unless `extra` sets one): its canonical bytes and index row.
 */
export function testEntry(i: number, extra: Record<string, unknown> = {}): UnsealedEntry {
  const result = validateEvent(event(i, { id: `s-${i}`, ...extra }));
  if (!result.ok) throw new Error(`test event ${i} is invalid: ${JSON.stringify(result.errors)}`);
  const id = result.event.id!;
  const record = toRecord(result.event, { id, received: '2026-11-27T12:00:00.000Z', index: i });
  return { index: i, id, bytes: Uint8Array.from(recordBytes(record)), row: indexRowOf(record) };
}

/**
 * Points the writer thread at its compiled script (tests run from the
 * TypeScript sources; `npm test` builds first). Returns the undo.
 */
export function useBuiltWriter(): () => void {
  const built = new URL('../dist/writer/writerWorker.js', import.meta.url);
  if (!existsSync(fileURLToPath(built))) throw new Error('build the packages first (npm run build)');
  const original = writerSettings.script;
  writerSettings.script = built;
  return () => {
    writerSettings.script = original;
  };
}
