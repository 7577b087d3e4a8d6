import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import type { Io } from './io.js';

/** Bad usage or input: the command exits 2 with this one-line message. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type OptionConfig = { type: 'string' | 'boolean'; short?: string; multiple?: boolean };
type Options = Record<string, OptionConfig>;
type Values<O extends Options> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string;
};

/** The options every command that opens a log takes. */
export const DIR_OPTION = { dir: { type: 'string' } } as const satisfies Options;

/** Parses a command's arguments strictly; unknown flags are usage errors. */
export function parse<O extends Options>(args: string[], options: O, positionals = 0): { values: Values<O>; positionals: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: positionals > 0, strict: true });
  } catch (err) {
    throw new UsageError(parseError(err as Error & { code?: string }, args));
  }
  if (parsed.positionals.length > positionals) {
    throw new UsageError(`unexpected argument: ${parsed.positionals[positionals]}`);
  }
  return { values: parsed.values as Values<O>, positionals: parsed.positionals };
}

/**
 * A command's subcommand and the rest of its arguments. The subcommand is the
 * first positional wherever it stands (`stele token --dir D list` is `stele
 * token list --dir D`); `options` are the flags of every subcommand, so that
 * a flag's value (`--dir list`) is not taken for it. Unknown flags are left
 * in the rest, for the subcommand's own strict parse to refuse.
 */
export function subcommand(args: string[], options: Options): { sub: string | undefined; rest: string[] } {
  const { tokens } = parseArgs({ args, options, allowPositionals: true, strict: false, tokens: true });
  const first = tokens.find((t) => t.kind === 'positional');
  if (first === undefined) return { sub: undefined, rest: args };
  return { sub: first.value, rest: args.filter((_, i) => i !== first.index) };
}

/** A missing or unknown subcommand: `usage: stele COMMAND FORMS` in one line. */
export function subcommandError(command: string, sub: string | undefined, forms: string): UsageError {
  const usage = `usage: stele ${command} ${forms} (see stele ${command} --help)`;
  return new UsageError(sub === undefined ? usage : `unknown subcommand ${JSON.stringify(sub)}; ${usage}`);
}

/**
 * parseArgs's refusal in one line that names the flag and says what to type,
 * where its own message runs to three lines or speaks of an "argument".
 */
function parseError(err: Error & { code?: string }, args: string[]): string {
  const first = err.message.split('\n')[0]!;
  const flag = /'(-[^' ]+)/.exec(first)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && flag) return `unknown option ${flag}`;
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return `unexpected argument: ${/'([^']*)'/.exec(first)?.[1] ?? first}`;
  if (err.code !== 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || !flag) return first;
  if (first.includes('ambiguous')) {
    // parseArgs will not take "--limit -3" (the value looks like a flag): it must be written "--limit=-3".
    const value = args[args.indexOf(flag) + 1];
    return value === undefined ? `${flag} needs a value` : `${flag} ${value}: ${JSON.stringify(value)} looks like a flag; to give it as ${flag}'s value, write ${flag}=${value}`;
  }
  if (first.includes('argument missing')) return `${flag} needs a value`;
  if (first.includes('does not take an argument')) return `${flag} takes no value`;
  return first;
}

/** The data directory: --dir, else STELE_DIR, else ./stele-data. */
export function dataDir(io: Io, dir: string | undefined): string {
  return resolve(io.cwd, dir ?? io.env.STELE_DIR ?? 'stele-data');
}

/** A non-negative safe integer option, or a usage error naming it. */
export function integer(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw new UsageError(`--${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, not ${JSON.stringify(value)}`);
  }
  return Number(value);
}
