/**
 * A histogram of the loaded rows over time, above the results: the rows'
 * range cut into buckets of a round size (a second up to a week), so a
 * glance shows when the activity happened.
 */
import type { EventRecord } from '@stele/log';
import { h } from './dom.js';

/** The round bucket sizes, in milliseconds, smallest first. */
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800].map((s) => s * 1000);

/** One bucket: its start (ms since the epoch), size and count of rows. */
export interface Bucket {
  start: number;
  size: number;
  count: number;
}

/**
 * Counts `times` (ms since the epoch) per bucket: the smallest round size
 * that covers the range in at most `max` buckets, aligned to a multiple of
 * the size. Empty buckets between are kept; no times give no buckets.
 */
export function bucketize(times: readonly number[], max = 60): Bucket[] {
  const valid = times.filter((t) => Number.isFinite(t));
  if (valid.length === 0) return [];
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of valid) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  const size = STEPS.find((s) => Math.floor(hi / s) - Math.floor(lo / s) + 1 <= max) ?? Math.ceil((hi - lo + 1) / max / 86_400_000) * 86_400_000;
  const first = Math.floor(lo / size);
  const buckets: Bucket[] = Array.from({ length: Math.floor(hi / size) - first + 1 }, (_, i) => ({ start: (first + i) * size, size, count: 0 }));
  for (const t of valid) buckets[Math.floor(t / size) - first]!.count++;
  return buckets;
}

/** A bucket size for people: `5s`, `15m`, `2h`, `1d`. */
export function sizeLabel(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${s / 60}m`;
  if (s < 86400) return `${s / 3600}h`;
  return `${s / 86400}d`;
}

const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');

/** Renders the histogram of `records` into `root` (bars scaled to the fullest bucket). */
export function renderTimeline(root: HTMLElement, records: readonly EventRecord[]): void {
  const buckets = bucketize(records.map((e) => Date.parse(e.time)));
  if (buckets.length === 0) {
    root.replaceChildren();
    return;
  }
  const top = Math.max(...buckets.map((b) => b.count));
  const bars = buckets.map((b) => {
    const bar = h('span.tbar', { 'data-count': String(b.count), title: `${stamp(b.start)} +${sizeLabel(b.size)}: ${b.count} event${b.count === 1 ? '' : 's'}` });
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    bar.style.height = `${b.count === 0 ? 0 : Math.max(2, Math.round((b.count / top) * 100))}%`;
    return bar;
  });
  const last = buckets[buckets.length - 1]!;
  root.replaceChildren(
    h('div.tbars', { role: 'img', 'aria-label': `${records.length} events shown, per ${sizeLabel(last.size)}` }, ...bars),
    h('div.taxis', {}, h('span', {}, stamp(buckets[0]!.start)), h('span', {}, `per ${sizeLabel(last.size)} · max ${top}`), h('span', {}, stamp(last.start + last.size))),
  );
}
