import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, toCsv } from './csv.js';
import type { EventRecord } from './event.js';

describe('toCsv', () => {
  it('writes a header and quotes fields with commas, quotes and line breaks (RFC 4180)', () => {
    const record = { v: 1, id: 'e1', time: 't', received: 'r', index: 7, source: 'emacs', action: 'file.save', actor: { id: 'alice', verified: true }, outcome: 'success', reason: 'fix "it", now\nplease' } as unknown as EventRecord;
    const [header, row, end] = toCsv([record]).split('\r\n');
    expect(header).toBe(CSV_COLUMNS.join(','));
    expect(row).toBe('7,e1,t,r,emacs,file.save,alice,,,true,,,,success,"fix ""it"", now\nplease",');
    expect(end).toBe('');
  });
});
