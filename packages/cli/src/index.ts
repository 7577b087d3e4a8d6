/**
 * @stele/cli: the `stele` command. `main(argv, io)` runs one subcommand and
 * returns its exit code: 0 ok, 1 a failed check, 2 bad usage or input.
 *
 * @packageDocumentation
 */
import { LogError } from '@stele/log';
import { StoreError } from '@stele/store';
import { EXIT, processIo, type Io } from './io.js';
import { UsageError } from './usage.js';
import { RemoteError } from './oauth.js';
import { COMMANDS, HELP, helpOf } from './commands/index.js';
import { oneLine } from './text.js';
import { VERSION } from './version.js';

export { VERSION } from './version.js';

export type { Io } from './io.js';
export { EXIT } from './io.js';

/** Runs `stele <command> ...args`; returns the exit code. */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    // `stele help COMMAND`: that command's part.
    if (name === 'help' && args.length > 0) {
      const part = args.length === 1 ? helpOf(args[0]!) : undefined;
      if (part === undefined) {
        io.stderr(`stele help: no command ${JSON.stringify(args.join(' '))} (see stele --help)\n`);
        return EXIT.usage;
      }
      io.stdout(part);
      return EXIT.ok;
    }
    io.stdout(HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === 'version') {
    io.stdout(`${VERSION}\n`);
    return EXIT.ok;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr(`stele: ${name.startsWith('-') ? optionsFirst(argv) : `unknown command ${JSON.stringify(name)} (see stele --help)`}\n`);
    return EXIT.usage;
  }
  // `stele COMMAND --help` (or -h) anywhere among its arguments: the command's part of the help, nothing run.
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(helpOf(name) ?? HELP);
    return EXIT.ok;
  }
  try {
    return await command(args, io);
  } catch (err) {
    // One line each, whatever text (a file's, a collector's) the message quotes.
    if (err instanceof UsageError || err instanceof StoreError || err instanceof LogError) {
      io.stderr(`stele ${name}: ${oneLine(err.message)}\n`);
      return EXIT.usage;
    }
    if (err instanceof RemoteError) {
      io.stderr(`stele ${name}: ${oneLine(err.message)}\n`);
      return err.exit;
    }
    throw err;
  }
}

/**
 * The refusal of `stele --dir D verify`: options go after the command (the
 * help's `stele <command> [options]`), so that each command alone says what
 * its flags are. Shows the line to type when a later argument is a command.
 */
function optionsFirst(argv: string[]): string {
  const at = argv.findIndex((a) => Object.hasOwn(COMMANDS, a));
  if (at < 0) return `options go after the command: stele <command> ${argv.map(shellWord).join(' ')} (see stele --help)`;
  return `options go after the command: stele ${[argv[at]!, ...argv.filter((_, i) => i !== at)].map(shellWord).join(' ')}`;
}

/** An argument as a shell would take it back: bare when plain, else quoted. */
const shellWord = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${oneLine(arg).replaceAll("'", `'\\''`)}'`);
