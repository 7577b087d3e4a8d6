import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { DeviceState } from './chain.js';
import { ensurePrivateFile } from '../privateFile.js';

/**
 * The device table (`devices.db` beside the log): mutable, and only a cache
 * of the log, from which it can always be rebuilt (docs/IDENTITY.md).
 */
export interface DeviceStore {
  /** How many log entries the table reflects (entries 0 .. checked-1). */
  checked(): number;
  get(id: string): DeviceState | undefined;
  /** Every device, by id. */
  list(): DeviceState[];
  /** Saves changed devices and the new `checked` in one transaction. */
  save(states: Iterable<DeviceState>, checked: number): void;
  /** Forgets everything (a rebuild starts from entry 0). */
  reset(): void;
  close(): void;
}

/** Opens (creating) the device table of a data directory; `':memory:'` for a throwaway one. */
export function openDeviceStore(dirOrMemory: string): DeviceStore {
  if (dirOrMemory !== ':memory:') ensurePrivateFile(join(dirOrMemory, 'devices.db'));
  const db = new Database(dirOrMemory === ':memory:' ? ':memory:' : join(dirOrMemory, 'devices.db'));
  db.pragma('journal_mode = WAL');
  // A cache of the log: losing the last commits in a power cut only means checking them again.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, state TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS progress (key TEXT PRIMARY KEY, value INTEGER NOT NULL);`);
  const get = db.prepare('SELECT state FROM devices WHERE id = ?').pluck();
  const all = db.prepare('SELECT state FROM devices ORDER BY id').pluck();
  const put = db.prepare('INSERT INTO devices (id, state) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state');
  const checked = db.prepare("SELECT value FROM progress WHERE key = 'checked'").pluck();
  const setChecked = db.prepare("INSERT INTO progress (key, value) VALUES ('checked', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  const save = db.transaction((states: Iterable<DeviceState>, size: number) => {
    for (const state of states) put.run(state.id, JSON.stringify(state));
    setChecked.run(size);
  });
  return {
    checked: () => (checked.get() as number | undefined) ?? 0,
    get(id) {
      const text = get.get(id) as string | undefined;
      return text === undefined ? undefined : (JSON.parse(text) as DeviceState);
    },
    list: () => (all.all() as string[]).map((text) => JSON.parse(text) as DeviceState),
    save: (states, size) => save(states, size),
    reset: () => db.exec('DELETE FROM devices; DELETE FROM progress;'),
    close: () => db.close(),
  };
}
