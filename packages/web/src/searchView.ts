/** The search page: the query box's results as a dense table, paged by cursor. */
import type { EventRecord } from '@stele/log';
import { fetchFacets, searchEvents, streamEvents } from './api.js';
import { h } from './dom.js';
import { exportButtons } from './exports.js';
import { addRecord, renderFacets, type FacetSummary } from './facets.js';
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

/**
 * A cell whose value may be longer than its column: the value sits in a
 * `span.fit` (one line and an ellipsis, or two lines on a narrow screen) and
 * the cell's title holds all of it.
 */
const fitCell = (tag: string, title: string, ...value: (Node | string | null)[]): HTMLElement => h(tag, { title }, h('span.fit', {}, ...value));

function row(e: EventRecord): HTMLElement {
  const link = h('a', { href: eventHref(e.id) }, e.action);
  // Date and clock apart, so a narrow screen can stack them in a narrow column.
  const [date, clock] = e.time.replace(/\.\d+/, '').replace('Z', '').split('T');
  return h(
    'tr',
    { 'data-id': e.id, tabindex: '0' },
    h('td.time', { title: e.time }, h('span.date', {}, date), ' ', h('span.clock', {}, clock)),
    fitCell('td.actor', actorOf(e), actorOf(e), e.actor.verified ? h('span.badge', { title: 'the identity provider proved this actor' }, '✓') : null),
    fitCell('td.action', e.action, link),
    fitCell('td.target', targetOf(e), targetOf(e)),
    h('td', {}, e.source),
    h(`td.outcome.${e.outcome}`, {}, e.outcome),
  );
}

let live: AbortController | undefined;
let counting: AbortController | undefined;

/** Stops the live tail, if one runs (on every change of view). */
export function stopLive(): void {
  live?.abort();
  live = undefined;
}

/** Leaves the search page: stops the live tail and abandons the facet count in flight. */
export function leaveSearch(): void {
  stopLive();
  counting?.abort();
  counting = undefined;
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
  leaveSearch();
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
  const shown = h('span.shown', {}, 'Searching…');
  const status = h('span.status', { 'aria-live': 'polite' }, shown);
  const table = h(
    'table.results.events',
    {},
    h('thead', {}, h('tr', {}, ...['time (UTC)', 'actor', 'action', 'target', 'source', 'outcome'].map((t) => h('th', {}, t)))),
    body,
  );
  // The exports take the search's filters, not the page the table is on.
  const exports = exportButtons(new URLSearchParams(params), (message) => status.append(h('span.error', {}, ` ${message}`)));
  // Facets and the timeline count the whole search on the collector, and the live arrivals here.
  const facets = h('div.facets', { 'aria-label': 'Facets of the search', 'aria-busy': 'true' });
  const timeline = h('div.timeline', { 'aria-label': 'The search over time' });
  let summary: FacetSummary | undefined;
  let count: number | undefined; // rows loaded; undefined until the first page came
  let more = false;
  let person = '';
  // "100 of 612 events" once the whole search is counted, "100 of 10,000+" when the count stopped short.
  const showStatus = () => {
    if (count === undefined) return;
    let total = more ? '+' : '';
    if (summary?.complete) total = ` of ${summary.counted.toLocaleString('en')}`;
    else if (summary && summary.counted > count) total = ` of ${summary.counted.toLocaleString('en')}+`;
    shown.replaceChildren(`${count}${total} event${count === 1 && !total ? '' : 's'}${person}`);
  };
  const refresh = () => {
    if (!summary) return;
    renderFacets(facets, summary, text, () => void countFacets(100_000));
    renderTimeline(timeline, summary);
    showStatus();
  };
  const countFacets = async (scan?: number) => {
    counting?.abort();
    const mine = (counting = new AbortController());
    const query = new URLSearchParams(params);
    query.delete('limit');
    query.delete('cursor'); // `load` moves it along the pages; the count is of the whole search
    if (scan !== undefined) query.set('scan', String(scan));
    facets.setAttribute('aria-busy', 'true');
    try {
      summary = await fetchFacets(query, mine.signal);
      facets.removeAttribute('aria-busy');
      refresh();
    } catch (err) {
      if (mine.signal.aborted) return;
      facets.removeAttribute('aria-busy');
      facets.replaceChildren(h('p.error', {}, `facets: ${(err as Error).message}`));
    }
  };
  root.replaceChildren(
    h('div.bar', {}, liveButton(params, rows, (record) => {
      if (summary) addRecord(summary, record);
      count = (count ?? 0) + 1;
      refresh();
    }), status, exports),
    facets,
    timeline,
    table,
  );
  const load = async (cursor?: string) => {
    if (cursor) params.set('cursor', cursor);
    const page = await searchEvents(params);
    rows.append(page.events);
    count = (count ?? 0) + page.events.length;
    more = page.next !== null;
    person = page.person ? ` · ${page.person.name ?? page.person.email}: ${page.person.identifiers.join(', ')}` : '';
    showStatus();
    if (page.next) {
      const button = h('button.more', { type: 'button' }, 'More');
      button.addEventListener('click', () => {
        button.remove();
        void load(page.next!).catch((err: Error) => status.append(h('span.error', {}, ` ${err.message}`)));
      });
      status.append(' ', button);
    }
  };
  // Asked alongside the first page; the table does not wait for the counts.
  void countFacets();
  await load();
  body.addEventListener('keydown', (ev) => {
    const tr = (ev.target as HTMLElement).closest('tr');
    if (!tr) return;
    if (ev.key === 'Enter') location.hash = eventHref(tr.dataset.id!);
    if (ev.key === 'ArrowDown' || ev.key === 'j') rows.step(tr, 1);
    if (ev.key === 'ArrowUp' || ev.key === 'k') rows.step(tr, -1);
  });
  // A click on a row opens its event, as Enter does; not one on the action's link (it may open a new tab) or one that selects text.
  body.addEventListener('click', (ev) => {
    const target = ev.target as HTMLElement;
    const tr = target.closest<HTMLElement>('tr[data-id]');
    if (!tr || target.closest('a') || window.getSelection()?.toString()) return;
    location.hash = eventHref(tr.dataset.id!);
  });
}
