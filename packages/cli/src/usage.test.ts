import { describe, expect, test } from 'vitest';
import { DIR_OPTION, parse, subcommand, subcommandError, UsageError } from './usage.js';

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
    expect(refusal(['--limit', '-3'])).toBe('--limit -3: "-3" looks like a flag; to give it as --limit\'s value, write --limit=-3');
  });

  test('names the flag that is unknown, lacks its value or takes none, in one line', () => {
    expect(refusal(['--frob'])).toBe('unknown option --frob');
    expect(refusal(['--dir'])).toBe('--dir needs a value');
    expect(refusal(['--json=yes'])).toBe('--json takes no value');
    expect(refusal(['a', 'b'], 1)).toBe('unexpected argument: b');
    expect(refusal(['stray'])).toBe('unexpected argument: stray');
  });
});

describe('subcommand', () => {
  test('is the first positional wherever it stands, and not a flag\'s value', () => {
    expect(subcommand(['list', '--dir', 'd'], OPTIONS)).toEqual({ sub: 'list', rest: ['--dir', 'd'] });
    expect(subcommand(['--dir', 'd', 'list', 'x'], OPTIONS)).toEqual({ sub: 'list', rest: ['--dir', 'd', 'x'] });
    expect(subcommand(['--dir', 'list', '--json'], OPTIONS)).toEqual({ sub: undefined, rest: ['--dir', 'list', '--json'] });
    expect(subcommand(['--dir=list', 'revoke'], OPTIONS)).toEqual({ sub: 'revoke', rest: ['--dir=list'] });
    // An unknown flag stays in the rest, for the subcommand's strict parse to refuse.
    expect(subcommand(['--frob', 'list'], OPTIONS)).toEqual({ sub: 'list', rest: ['--frob'] });
  });

  test('a missing or unknown one is a usage line', () => {
    expect(subcommandError('token', undefined, 'create|list').message).toBe('usage: stele token create|list (see stele token --help)');
    expect(subcommandError('token', 'x\n', 'create|list').message).toBe('unknown subcommand "x\\n"; usage: stele token create|list (see stele token --help)');
  });
});
