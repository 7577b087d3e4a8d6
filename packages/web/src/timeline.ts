/**
 * The histogram of a whole search over time, above the results: the
 * collector's buckets (`GET /v1/events/facets`), of a round size chosen for
 * the search's range (a second up to a week), so a glance shows when the
 * activity happened. When the counts are partial, the buckets older than the
 * oldest event counted are drawn as not counted.
 */
import { h } from './dom.js';
import type { FacetSummary } from './facets.js';

/** A bucket size for people: `5s`, `15m`, `2h`, `1d`. */
export function sizeLabel(ms: number): string {
  const s = ms / 1000;
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${s / 60}m`;
  if (s < 86400) return `${s / 3600}h`;
  return `${s / 86400}d`;
}

const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');

/** Renders the timeline of `summary` into `root` (bars scaled to the fullest bucket). */
export function renderTimeline(root: HTMLElement, summary: FacetSummary): void {
  const line = summary.timeline;
  if (!line || line.counts.length === 0) {
    root.replaceChildren();
    return;
  }
  const size = line.bucketSeconds * 1000;
  const from = Date.parse(line.from);
  const top = Math.max(1, ...line.counts);
  // Partial counts reach back to the oldest event counted; before it nothing is known.
  const known = summary.complete || !summary.oldest ? -Infinity : Date.parse(summary.oldest);
  const bars = line.counts.map((count, i) => {
    const start = from + i * size;
    const unknown = start + size <= known;
    const bar = h(`span.tbar${unknown ? '.unknown' : ''}`, {
      'data-count': String(count),
      title: unknown ? `${stamp(start)} +${sizeLabel(size)}: not counted (older than the newest ${summary.counted} matches)` : `${stamp(start)} +${sizeLabel(size)}: ${count} event${count === 1 ? '' : 's'}`,
    });
    // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
    bar.style.height = unknown ? '100%' : `${count === 0 ? 0 : Math.max(2, Math.round((count / top) * 100))}%`;
    return bar;
  });
  const total = line.counts.reduce((a, b) => a + b, 0);
  root.replaceChildren(
    h('div.tbars', { role: 'img', 'aria-label': `${total} events over time, per ${sizeLabel(size)}` }, ...bars),
    h('div.taxis', {}, h('span', {}, stamp(from)), h('span', {}, `per ${sizeLabel(size)} · max ${top}${summary.complete ? '' : ' · partial'}`), h('span', {}, stamp(Date.parse(line.to)))),
  );
}
