import { describe, expect, test } from 'vitest';
import { DIR_OPTION, parse, UsageError } from './usage.js';

const OPTIONS = { ...DIR_OPTION, limit: { type: 'string' }, json: { type: 'boolean' } } as const;

/** The one-line message parse() refuses `args` with. */
function refusal(args: string[], positionals = 0): string {
  try {
    parse(args, OPTIONS, positionals);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`parse accepted ${args.join(' ')}`);
}

describe('parse', () => {
  test('takes flags, values and positionals', () => {
    const { values, positionals } = parse(['--limit=-3', '--json', 'file'], OPTIONS, 1);
    expect(values).toEqual({ limit: '-3', json: true });
    expect(positionals).toEqual(['file']);
  });

  test('says how to write a value that starts with a dash', () => {
    expect(refusal(['--limit', '-3'])).toBe('--limit -3: a value that starts with "-" is written --limit=-3');
  });

  test('names the flag that is unknown, lacks its value or takes none, in one line', () => {
    expect(refusal(['--frob'])).toBe('unknown option --frob');
    expect(refusal(['--dir'])).toBe('--dir needs a value');
    expect(refusal(['--json=yes'])).toBe('--json takes no value');
    expect(refusal(['a', 'b'], 1)).toBe('unexpected argument: b');
    expect(refusal(['stray'])).toBe('unexpected argument: stray');
  });
});
