/**
 * Exports of the current search: CSV, JSON Lines, OCSF (JSON Lines of OCSF
 * 1.3.0 events) and an evidence bundle (docs/EVIDENCE.md), saved as files.
 * Records come from the API page by page, up to {@link MAX_EXPORT}.
 */
import { toCsv, type EventRecord } from '@stele/log';
import { fetchEvidence, searchEvents } from './api.js';
import { h } from './dom.js';

/** The most events one export holds (the evidence bundle: the API's page limit). */
export const MAX_EXPORT = 10_000;
const EVIDENCE_LIMIT = 1000;

/** The export formats, their file names and media types. */
export const FORMATS = {
  csv: { label: 'CSV', file: 'stele-events.csv', type: 'text/csv' },
  jsonl: { label: 'JSON Lines', file: 'stele-events.jsonl', type: 'application/x-ndjson' },
  ocsf: { label: 'OCSF', file: 'stele-events.ocsf.jsonl', type: 'application/x-ndjson' },
  evidence: { label: 'Evidence bundle', file: 'stele-evidence.json', type: 'application/json' },
} as const;

export type ExportFormat = keyof typeof FORMATS;

/** Values as JSON Lines. */
export const toJsonLines = (values: readonly unknown[]): string => values.map((v) => JSON.stringify(v) + '\n').join('');

/** Every record of the search (newest first), following cursors, up to `max`. */
async function allOf(params: URLSearchParams, max: number): Promise<unknown[]> {
  const query = new URLSearchParams(params);
  query.delete('cursor');
  query.set('limit', '1000');
  const out: unknown[] = [];
  for (;;) {
    const page = await searchEvents(query);
    out.push(...page.events);
    if (!page.next || out.length >= max) return out.slice(0, max);
    query.set('cursor', page.next);
  }
}

/** The file's text for one format. */
export async function exportText(format: ExportFormat, params: URLSearchParams): Promise<string> {
  if (format === 'evidence') {
    const query = new URLSearchParams(params);
    query.delete('cursor');
    query.delete('format');
    query.set('limit', String(EVIDENCE_LIMIT));
    return JSON.stringify(await fetchEvidence(query), null, 2) + '\n';
  }
  if (format === 'ocsf') return toJsonLines(await allOf(new URLSearchParams([...params, ['format', 'ocsf']]), MAX_EXPORT));
  const records = (await allOf(params, MAX_EXPORT)) as EventRecord[];
  return format === 'csv' ? toCsv(records) : toJsonLines(records);
}

/** Saves text as a download named `file`. */
function save(text: string, file: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: file }) as HTMLAnchorElement;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The export buttons of a search; `status` shows progress and errors. */
export function exportButtons(params: URLSearchParams, status: (message: string) => void): HTMLElement {
  const group = h('span.exports', { role: 'group', 'aria-label': 'Export the results' }, 'Export:');
  for (const [format, { label, file, type }] of Object.entries(FORMATS) as [ExportFormat, (typeof FORMATS)[ExportFormat]][]) {
    const button = h('button.export', { type: 'button', 'data-format': format, title: `Download ${format === 'evidence' ? `the first ${EVIDENCE_LIMIT} results with their proofs` : `up to ${MAX_EXPORT} results`} as ${label}` }, label) as HTMLButtonElement;
    button.addEventListener('click', () => {
      button.disabled = true;
      exportText(format, params)
        .then((text) => save(text, file, type))
        .catch((err: Error) => status(`the export failed: ${err.message}`))
        .finally(() => (button.disabled = false));
    });
    group.append(' ', button);
  }
  return group;
}
