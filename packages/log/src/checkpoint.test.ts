import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toBase64 } from './bytes.js';
import { formatCheckpoint, parseCheckpoint, type Checkpoint } from './checkpoint.js';
import { parseNote } from './note.js';
import { vectorsDir } from './testVectors.js';

const vectors = pathToFileURL(vectorsDir('tlog'));
const sizes = readdirSync(fileURLToPath(vectors)).filter((d) => d.startsWith('size-'));

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    return (e as { code?: string }).code ?? `not a LogError: ${String(e)}`;
  }
  throw new Error('expected an error');
}

const root = new Uint8Array(32).fill(0xab);
const rootB64 = toBase64(root);

describe('vectors written by Go', () => {
  it.each(sizes)('%s parses and formats back to the same text', (dir) => {
    const note = readFileSync(fileURLToPath(new URL(`${dir}/checkpoint`, vectors)), 'utf8');
    const { text } = parseNote(note);
    const n = Number(dir.slice('size-'.length));
    const cp = parseCheckpoint(text);
    expect(cp.origin).toBe(`example.com/vectors/${n}`);
    expect(cp.size).toBe(n);
    expect(cp.root).toHaveLength(32);
    expect(cp.extensions).toEqual([]);
    expect(formatCheckpoint(cp)).toBe(text);
  });
});

describe('parseCheckpoint', () => {
  it('reads extension lines', () => {
    const cp = parseCheckpoint(`log\n0\n${rootB64}\next one\n\u2014 not a signature here\n`);
    expect(cp).toEqual({ origin: 'log', size: 0, root, extensions: ['ext one', '\u2014 not a signature here'] });
  });

  it('reads the largest safe size', () => {
    expect(parseCheckpoint(`log\n9007199254740991\n${rootB64}\n`).size).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['empty', ''],
    ['no final newline', `log\n1\n${rootB64}`],
    ['two lines', 'log\n1\n'],
    ['an empty origin', `\n1\n${rootB64}\n`],
    ['a leading zero', `log\n01\n${rootB64}\n`],
    ['a sign', `log\n+1\n${rootB64}\n`],
    ['a negative size', `log\n-1\n${rootB64}\n`],
    ['a hex size', `log\n0x10\n${rootB64}\n`],
    ['an exponent', `log\n1e3\n${rootB64}\n`],
    ['a space', `log\n 1\n${rootB64}\n`],
    ['an empty size', `log\n\n${rootB64}\n`],
    ['non-ASCII digits', `log\n\u0661\n${rootB64}\n`],
    ['2^53', `log\n9007199254740992\n${rootB64}\n`],
    ['a huge size', `log\n${'9'.repeat(40)}\n${rootB64}\n`],
    ['a 31-byte root', `log\n1\n${toBase64(new Uint8Array(31))}\n`],
    ['a 33-byte root', `log\n1\n${toBase64(new Uint8Array(33))}\n`],
    ['unpadded base64', `log\n1\n${rootB64.slice(0, -1)}\n`],
    ['URL-safe base64', `log\n1\n${toBase64(new Uint8Array(32).fill(0xfb)).replace(/\+/g, '-')}\n`],
    ['an empty extension line', `log\n1\n${rootB64}\n\n`],
    ['a carriage return', `log\r\n1\n${rootB64}\n`],
    ['a lone surrogate', `log\ud800\n1\n${rootB64}\n`],
  ])('rejects %s', (_, text) => {
    expect(codeOf(() => parseCheckpoint(text))).toBe('ERR_CHECKPOINT_MALFORMED');
  });
});

describe('formatCheckpoint', () => {
  it('writes the three lines and extensions', () => {
    expect(formatCheckpoint({ origin: 'example.com/log', size: 10, root, extensions: ['x'] })).toBe(`example.com/log\n10\n${rootB64}\nx\n`);
  });

  it.each<[string, Partial<Checkpoint>]>([
    ['an empty origin', { origin: '' }],
    ['a newline in the origin', { origin: 'a\nb' }],
    ['a negative size', { size: -1 }],
    ['a fractional size', { size: 1.5 }],
    ['an unsafe size', { size: 2 ** 53 }],
    ['a short root', { root: new Uint8Array(31) }],
    ['an empty extension', { extensions: [''] }],
    ['a newline in an extension', { extensions: ['a\nb'] }],
  ])('refuses %s', (_, change) => {
    expect(codeOf(() => formatCheckpoint({ origin: 'log', size: 1, root, extensions: [], ...change }))).toBe('ERR_CHECKPOINT_MALFORMED');
  });

  it('round-trips through parseCheckpoint', () => {
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    const line = fc.string({ minLength: 1, unit: 'grapheme' }).filter((s) => !/[\u0000-\u001f]/.test(s));
    fc.assert(
      fc.property(
        fc.record({
          origin: line,
          size: fc.maxSafeNat(),
          root: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          extensions: fc.array(line, { maxLength: 3 }),
        }),
        (cp) => {
          expect(parseCheckpoint(formatCheckpoint(cp))).toEqual(cp);
        },
      ),
    );
  });
});
