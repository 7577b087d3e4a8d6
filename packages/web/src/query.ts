/**
 * The console's query language, parsed in the browser into the query
 * parameters of `GET /v1/events` (docs/API.md):
 *
 * ```
 * actor:alice action:package.* source:kubernetes since:2h "init.el" ticket:INC-42
 * ```
 *
 * `key:value` pairs become filters (a value may be quoted: `target:"prod db"`);
 * every other word or quoted phrase joins the free text `q`.
 */

/** The filters the API takes, in the order the console shows them. */
export const FILTER_KEYS = ['actor', 'action', 'source', 'target', 'outcome', 'since', 'until', 'ticket'] as const;

/** One filter key of the query language. */
export type FilterKey = (typeof FILTER_KEYS)[number];

/** A query the parser refused, with a stable code. */
export class QueryError extends Error {
  constructor(
    readonly code: 'ERR_QUERY_KEY' | 'ERR_QUERY_REPEATED' | 'ERR_QUERY_QUOTE' | 'ERR_QUERY_EMPTY_VALUE',
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

/** A parsed query: the filters and the free text. */
export interface ParsedQuery {
  filters: Partial<Record<FilterKey, string>>;
  /** The free-text words and phrases, in order. */
  text: string[];
}

const TOKEN = /\s*(?:([A-Za-z]+):(?:"([^"]*)"|(\S*))|"([^"]*)"|(\S+))/y;

/**
 * Parses the query language.
 *
 * @throws QueryError on an unknown or repeated key, an empty value or an unclosed quote
 */
export function parseQuery(input: string): ParsedQuery {
  const parsed: ParsedQuery = { filters: {}, text: [] };
  if ((input.match(/"/g)?.length ?? 0) % 2 !== 0) throw new QueryError('ERR_QUERY_QUOTE', 'a quote is not closed');
  TOKEN.lastIndex = 0;
  let match: RegExpExecArray | null;
  while (TOKEN.lastIndex < input.length && (match = TOKEN.exec(input)) !== null) {
    const [, key, quoted, bare, phrase, word] = match;
    if (key !== undefined && !(bare ?? '').startsWith('//')) {
      const name = key.toLowerCase();
      if (!(FILTER_KEYS as readonly string[]).includes(name)) {
        throw new QueryError('ERR_QUERY_KEY', `unknown key ${key}: (one of ${FILTER_KEYS.join(', ')})`);
      }
      const value = (quoted ?? bare ?? '').trim();
      if (value === '') throw new QueryError('ERR_QUERY_EMPTY_VALUE', `${key}: needs a value`);
      if (parsed.filters[name as FilterKey] !== undefined) throw new QueryError('ERR_QUERY_REPEATED', `${key}: appears twice`);
      parsed.filters[name as FilterKey] = value;
    } else {
      const text = (phrase ?? word ?? match[0]).trim(); // match[0]: a URL such as https://...
      if (text !== '') parsed.text.push(text);
    }
  }
  return parsed;
}

/** The `GET /v1/events` parameters of a parsed query (plus `limit` when given). */
export function toSearchParams(query: ParsedQuery, limit?: number): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = query.filters[key];
    if (value !== undefined) params.set(key, value);
  }
  if (query.text.length > 0) params.set('q', query.text.join(' '));
  if (limit !== undefined) params.set('limit', String(limit));
  return params;
}

/** A value as the query language writes it: bare, or quoted when it holds a space. */
const quote = (value: string): string => (/[\s]/.test(value) || value.includes(':') ? `"${value}"` : value);

/** Writes a parsed query back as text that {@link parseQuery} reads to the same query. */
export function formatQuery(query: ParsedQuery): string {
  const parts: string[] = [];
  for (const key of FILTER_KEYS) {
    const value = query.filters[key];
    if (value !== undefined) parts.push(`${key}:${quote(value)}`);
  }
  for (const text of query.text) parts.push(/\s/.test(text) ? `"${text}"` : text);
  return parts.join(' ');
}

/**
 * The query `text` narrowed to `key:value` (replacing the key's value if it
 * had one), or undefined when the value cannot be written (it holds a quote).
 *
 * @throws QueryError when `text` does not parse
 */
export function refineQuery(text: string, key: FilterKey, value: string): string | undefined {
  if (value.includes('"') || value.trim() === '') return undefined;
  const query = parseQuery(text);
  query.filters[key] = value;
  return formatQuery(query);
}
