/**
 * Test support for the device tests (not built into the package): a tracker
 * following a store's log that fails the test on any error.
 */
import type { Log } from '@stele/store';
import { openDeviceStore } from './deviceStore.js';
import { startDeviceTracker, type DeviceTracker } from './tracker.js';

/**
 * A tracker over the device table in `dir`, following `log`. With `rebuild`,
 * the table is emptied first and the tracker has read the whole log when this
 * resolves: the table as the log alone makes it.
 */
export async function followLog(dir: string, log: Log, options: { rebuild?: boolean } = {}): Promise<DeviceTracker> {
  const store = openDeviceStore(dir);
  if (options.rebuild) store.reset();
  const tracker = await startDeviceTracker({ log, store, onError: (err) => { throw err; } });
  if (options.rebuild) await tracker.idle();
  return tracker;
}
