/** The search page: the query box's results as a dense table, paged by cursor. */
import type { EventRecord } from '@stele/log';
import { searchEvents, streamEvents } from './api.js';
import { h } from './dom.js';
import { exportButtons } from './exports.js';
import { renderFacets } from './facets.js';
import { parseQuery, toSearchParams } from './query.js';
import { renderTimeline } from './timeline.js';
import { WindowedBody } from './windowedTable.js';

const PAGE = 100;

/** The link to an event's page. */
export const eventHref = (id: string): string => `#/event/${encodeURIComponent(id)}`;

/** Who acted, as briefly as the record allows. */
export const actorOf = (e: EventRecord): string => e.actor.email ?? e.actor.id ?? e.actor.name ?? '?';

/** What was acted on. */
export const targetOf = (e: EventRecord): string => (e.target ? `${e.target.type} ${e.target.name ?? e.target.id ?? ''}`.trim() : '');

function row(e: EventRecord): HTMLElement {
  const link = h('a', { href: eventHref(e.id) }, e.action);
  return h(
    'tr',
    { 'data-id': e.id, tabindex: '0' },
    h('td.time', { title: e.time }, e.time.replace('T', ' ').replace(/\.\d+/, '').replace('Z', '')),
    h('td', {}, actorOf(e), e.actor.verified ? h('span.badge', { title: 'the identity provider proved this actor' }, '✓') : null),
    h('td', {}, link),
    h('td.target', { title: targetOf(e) }, targetOf(e)),
    h('td', {}, e.source),
    h(`td.outcome.${e.outcome}`, {}, e.outcome),
  );
}

let live: AbortController | undefined;

/** Stops the live tail, if one runs (on every change of view). */
export function stopLive(): void {
  live?.abort();
  live = undefined;
}

/** A toggle that prepends new matching events to the table as they are appended. */
function liveButton(params: URLSearchParams, body: WindowedBody<EventRecord>, onRecord: (record: EventRecord) => void): HTMLElement {
  const button = h('button.live', { type: 'button', 'aria-pressed': 'false', title: 'Show new events as they arrive' }, 'Live');
  button.addEventListener('click', () => {
    if (live) {
      stopLive();
      button.setAttribute('aria-pressed', 'false');
      delete button.dataset.open;
      return;
    }
    const stream = new URLSearchParams(params);
    for (const key of ['since', 'until', 'cursor', 'limit']) stream.delete(key); // the stream sends only what comes next
    live = new AbortController();
    button.setAttribute('aria-pressed', 'true');
    const signal = live.signal;
    streamEvents(stream, signal, (record) => {
      body.prepend(record, (tr) => tr.classList.add('new'));
      onRecord(record);
    }, () => (button.dataset.open = 'true')).catch((err: Error) => {
      if (signal.aborted) return;
      button.setAttribute('aria-pressed', 'false');
      delete button.dataset.open;
      button.title = `the live tail stopped: ${err.message}`;
      live = undefined;
    });
  });
  return button;
}

/** Renders the results of `text` into `root`; errors of the query or the API are shown in place. */
export async function renderSearch(root: HTMLElement, text: string): Promise<void> {
  stopLive();
  let params: URLSearchParams;
  try {
    params = toSearchParams(parseQuery(text), PAGE);
  } catch (err) {
    root.replaceChildren(h('p.error', { role: 'alert' }, (err as Error).message));
    return;
  }
  const body = h('tbody');
  // Past a few hundred rows only the ones in view are in the DOM.
  const rows = new WindowedBody(body, row);
  const status = h('span.status', { 'aria-live': 'polite' }, 'Searching…');
  const table = h(
    'table.results',
    {},
    h('thead', {}, h('tr', {}, ...['time (UTC)', 'actor', 'action', 'target', 'source', 'outcome'].map((t) => h('th', {}, t)))),
    body,
  );
  // The exports take the search's filters, not the page the table is on.
  const exports = exportButtons(new URLSearchParams(params), (message) => status.replaceChildren(h('span.error', {}, message)));
  // Facets count what is on screen: the pages loaded and the live arrivals.
  const shown: EventRecord[] = [];
  const facets = h('div.facets', { 'aria-label': 'Facets of the results shown' });
  const timeline = h('div.timeline', { 'aria-label': 'Results shown over time' });
  const refresh = () => (renderFacets(facets, shown, text), renderTimeline(timeline, shown));
  root.replaceChildren(h('div.bar', {}, liveButton(params, rows, (record) => (shown.push(record), refresh())), status, exports), facets, timeline, table);
  let count = 0;
  const load = async (cursor?: string) => {
    if (cursor) params.set('cursor', cursor);
    const page = await searchEvents(params);
    rows.append(page.events);
    shown.push(...page.events);
    refresh();
    count += page.events.length;
    const person = page.person ? ` · ${page.person.name ?? page.person.email}: ${page.person.identifiers.join(', ')}` : '';
    status.replaceChildren(`${count}${page.next ? '+' : ''} event${count === 1 ? '' : 's'}${person}`);
    if (page.next) {
      const more = h('button.more', { type: 'button' }, 'More');
      more.addEventListener('click', () => {
        more.remove();
        void load(page.next!).catch((err: Error) => status.replaceChildren(h('span.error', {}, err.message)));
      });
      status.append(' ', more);
    }
  };
  await load();
  body.addEventListener('keydown', (ev) => {
    const tr = (ev.target as HTMLElement).closest('tr');
    if (!tr) return;
    if (ev.key === 'Enter') location.hash = eventHref(tr.dataset.id!);
    if (ev.key === 'ArrowDown' || ev.key === 'j') rows.step(tr, 1);
    if (ev.key === 'ArrowUp' || ev.key === 'k') rows.step(tr, -1);
  });
}
