import { describe, expect, it } from 'vitest';
import { formatQuery, parseQuery, QueryError, refineQuery, toSearchParams } from './query.js';

const params = (q: string) => Object.fromEntries(toSearchParams(parseQuery(q)));

describe('the query language', () => {
  it('maps keys onto filters and the rest onto q', () => {
    expect(params('actor:alice action:package.* source:kubernetes since:2h "init.el" ticket:INC-42')).toEqual({
      actor: 'alice',
      action: 'package.*',
      source: 'kubernetes',
      since: '2h',
      ticket: 'INC-42',
      q: 'init.el',
    });
  });

  it('takes quoted values, bare words and phrases', () => {
    expect(params('target:"prod db" force push "a b"')).toEqual({ target: 'prod db', q: 'force push a b' });
    expect(params('  ')).toEqual({});
    expect(params('OUTCOME:failure')).toEqual({ outcome: 'failure' });
  });

  it('keeps URLs and times with colons whole', () => {
    expect(params('until:2026-01-02T03:04:05Z https://example.com')).toEqual({ until: '2026-01-02T03:04:05Z', q: 'https://example.com' });
  });

  const code = (q: string) => {
    try {
      parseQuery(q);
    } catch (err) {
      return (err as QueryError).code;
    }
    return undefined;
  };

  it('refuses what it cannot mean', () => {
    expect(code('colour:red')).toBe('ERR_QUERY_KEY');
    expect(code('actor:a actor:b')).toBe('ERR_QUERY_REPEATED');
    expect(code('"init.el')).toBe('ERR_QUERY_QUOTE');
    expect(code('actor:')).toBe('ERR_QUERY_EMPTY_VALUE');
  });
});

describe('refineQuery', () => {
  it('adds or replaces a filter and keeps the free text', () => {
    expect(refineQuery('actor:alice "init.el" save', 'source', 'emacs')).toBe('actor:alice source:emacs init.el save');
    expect(refineQuery('source:git', 'source', 'emacs')).toBe('source:emacs');
    expect(refineQuery('', 'actor', 'Alice Smith')).toBe('actor:"Alice Smith"');
    expect(parseQuery(refineQuery('x', 'target', 'https://a.b/c')!).filters.target).toBe('https://a.b/c');
    expect(refineQuery('', 'actor', 'say "hi"')).toBeUndefined();
  });

  it('writes back what it parsed', () => {
    for (const text of ['actor:alice action:package.* "two words" one', 'target:"prod db" since:2h']) {
      expect(parseQuery(formatQuery(parseQuery(text)))).toEqual(parseQuery(text));
    }
  });
});
