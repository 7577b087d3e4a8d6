import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, readConfigFile, resolveConfig, startCollector, type Collector } from '@stele/server';
import { EXIT, type Io } from '../io.js';
import { VERSION } from '../version.js';
import { DIR_OPTION, UsageError, parse } from '../usage.js';

/** The console built by `npm run build` (packages/web/dist), beside this package's dist/commands/. */
const CONSOLE_DIR = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/**
 * `stele serve [--dir D] [--host H] [--port P] [--config FILE] [--tls-cert F
 * --tls-key F] [--log-level L]`: run the collector until SIGTERM or SIGINT,
 * then shut down gracefully (in-flight batches finish).
 */
export async function serve(args: string[], io: Io): Promise<number> {
  const { values } = parse(args, {
    ...DIR_OPTION,
    host: { type: 'string' },
    port: { type: 'string' },
    config: { type: 'string' },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'log-level': { type: 'string' },
  });
  const flags: Record<string, unknown> = {};
  if (values.dir !== undefined) flags.dir = values.dir;
  if (values.host !== undefined) flags.host = values.host;
  if (values.port !== undefined) flags.port = values.port;
  if (values['log-level'] !== undefined) flags.logLevel = values['log-level'];
  if (values['tls-cert'] !== undefined || values['tls-key'] !== undefined) flags.tls = { cert: values['tls-cert'], key: values['tls-key'] };
  let config;
  try {
    const file = values.config === undefined ? undefined : readConfigFile(values.config);
    config = resolveConfig({ file, env: io.env, flags });
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
  config.dir = resolve(io.cwd, config.dir);

  // Signals are caught before the collector starts, so a stop that arrives
  // while it starts still ends in a graceful shutdown.
  let stopSignal: string | undefined;
  let wake: (() => void) | undefined;
  const onSignal = (signal: string) => {
    stopSignal ??= signal;
    wake?.();
  };
  const term = () => onSignal('SIGTERM');
  const int = () => onSignal('SIGINT');
  process.once('SIGTERM', term);
  process.once('SIGINT', int);
  let collector: Collector;
  try {
    collector = await startCollector({ config, version: VERSION, say: (m) => io.stderr(`stele serve: ${m}\n`), consoleDir: CONSOLE_DIR });
  } catch (err) {
    process.off('SIGTERM', term);
    process.off('SIGINT', int);
    if (err instanceof ConfigError) throw new UsageError(err.message);
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new UsageError(`${config.host}:${config.port} is already in use`);
    throw err;
  }
  if (stopSignal === undefined) await new Promise<void>((r) => (wake = r));
  io.stderr(`stele serve: ${stopSignal}: finishing in-flight batches\n`);
  try {
    await collector.close(stopSignal);
  } catch (err) {
    io.stderr(`stele serve: shutdown failed: ${(err as Error).message}\n`);
    return EXIT.failed;
  }
  io.stderr(`stele serve: stopped; every acknowledged event is in the log (size ${collector.store.log.size()})\n`);
  return EXIT.ok;
}
