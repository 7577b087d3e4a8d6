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

  it("puts a ' before text a spreadsheet would run as a formula, and only there", () => {
    const record = (reason: string, host = 'h') =>
      ({ v: 1, id: 'e1', time: 't', received: 'r', index: 7, source: 'emacs', action: 'a.b', actor: { id: '@alice', verified: false }, outcome: 'success', reason, host }) as unknown as EventRecord;
    const row = (r: EventRecord) => toCsv([r]).split('\r\n')[1]!;
    expect(row(record('=cmd|/c calc!A1'))).toBe("7,e1,t,r,emacs,a.b,'@alice,,,false,,,,success,'=cmd|/c calc!A1,h");
    expect(row(record('+1', '-2'))).toBe("7,e1,t,r,emacs,a.b,'@alice,,,false,,,,success,'+1,'-2");
    // Quoted as well when it holds a quote or a comma; a tab or carriage return first counts too.
    expect(row(record('=HYPERLINK("x","y")'))).toBe(`7,e1,t,r,emacs,a.b,'@alice,,,false,,,,success,"'=HYPERLINK(""x"",""y"")",h`);
    expect(row(record('\t=1'))).toBe("7,e1,t,r,emacs,a.b,'@alice,,,false,,,,success,'\t=1,h");
    expect(row(record('a=b, c'))).toBe('7,e1,t,r,emacs,a.b,\'@alice,,,false,,,,success,"a=b, c",h');
  });
});
