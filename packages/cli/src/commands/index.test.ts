import { describe, expect, test } from 'vitest';
import { COMMANDS, HELP, helpOf } from './index.js';

/** The command a line of the help starts, if it starts one. */
const commandOf = (line: string): string | undefined => /^ {2}(\S+)/.exec(line)?.[1];

describe('helpOf', () => {
  test.each(Object.keys(COMMANDS))('stele %s --help shows its forms and no other command', (name) => {
    const help = helpOf(name);
    expect(help).toBeDefined();
    const starts = help!.split('\n').map(commandOf).filter((c) => c !== undefined);
    expect(starts.length).toBeGreaterThan(0);
    expect(new Set(starts)).toEqual(new Set([name]));
    // Every line of its forms is the help's own, in the same order.
    const forms = help!.split('\n').filter((l) => l.startsWith('  '));
    expect(HELP).toContain(forms.join('\n'));
  });

  test('a name the help does not list has none', () => {
    expect(helpOf('frobnicate')).toBeUndefined();
    expect(helpOf('S3')).toBeUndefined();
  });
});
