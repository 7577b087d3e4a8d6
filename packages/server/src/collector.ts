import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { hasStore, initStore, openStore, type Store } from '@stele/store';
import { buildApp } from './app.js';
import { startArchive, type CollectorArchive } from './archiveTask.js';
import { startSelfCheck, type SelfCheck } from './selfCheck.js';
import { collectorActor, configHash, lastAdmin, lostRun, recordAdmin } from './audit.js';
import { openTokenStore, type TokenStore } from './auth/tokenStore.js';
import { ConfigError, isLoopback, publicConfig, type ServerConfig } from './config.js';
import type { AppContext } from './context.js';
import { openDeviceStore } from './devices/deviceStore.js';
import { startDeviceTracker, type DeviceTracker } from './devices/tracker.js';

/** Options of {@link startCollector}. */
export interface CollectorOptions {
  config: ServerConfig;
  /** The collector's version, recorded when it starts. */
  version: string;
  /** Human messages (first-start instructions); structured logs go through pino. */
  say: (message: string) => void;
  /** Structured logging (pino through Fastify); default on at config.logLevel. */
  logger?: boolean;
  /** The web console's built files (packages/web/dist), served at `/`. */
  consoleDir?: string;
}

/** A running collector. */
export interface Collector {
  url: string;
  app: FastifyInstance;
  store: Store;
  /** Graceful shutdown: stop accepting, finish in-flight batches, record the stop, close. */
  close(reason?: string): Promise<void>;
}

/** Resolves once a server could listen on host:port (and has let go of it); rejects as listen() would (EADDRINUSE, EACCES). */
function canListen(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** The file the first start writes the bootstrap admin token to (mode 0600). */
export const ADMIN_TOKEN_FILE = 'admin.token';

/**
 * Starts the collector on its data directory, creating the log (and a
 * bootstrap admin token) on first start.
 */
export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const { config, say } = options;
  if (!config.auth && !isLoopback(config.host)) {
    throw new ConfigError(`refusing to listen on ${config.host} with authentication off: use a loopback address or turn auth on`);
  }
  const https = config.tls.cert ? readTls(config.tls.cert, config.tls.key!) : undefined;
  const fresh = !hasStore(config.dir);
  if (fresh) {
    // A first start on a taken port would leave a new log and admin token behind it: try the port first.
    await canListen(config.host, config.port);
    const { origin, verifierKey } = await initStore(config.dir);
    say(`created a new log ${origin} in ${config.dir}`);
    say(`verifier key (also in ${join(config.dir, 'verifier.key')}): ${verifierKey}`);
  }
  // This thread serves HTTP too: the writer thread hashes and signs (store writer/writerThread.ts).
  const store = await openStore(config.dir, { maxQueued: config.limits.queuedEvents, writerThread: 'seal' });
  let tokens: TokenStore | undefined;
  let devices: DeviceTracker | undefined;
  let context: AppContext | undefined;
  let archive: CollectorArchive | undefined;
  let selfCheck: SelfCheck | undefined;
  try {
    tokens = openTokenStore(config.dir);
    if (fresh) {
      const { token, record } = tokens.create('bootstrap-admin', 'admin');
      try {
        await recordAdmin(store.log, 'token.create', { actor: collectorActor(), target: { type: 'token', id: record.id, name: record.name }, details: { scope: record.scope } });
      } catch (err) {
        tokens.revoke(record.id); // no unrecorded credential
        throw err;
      }
      writeFileSync(join(config.dir, ADMIN_TOKEN_FILE), token + '\n', { mode: 0o600 });
      say(`an admin token is in ${join(config.dir, ADMIN_TOKEN_FILE)} (mode 0600); create others with: stele token create --name NAME --scope ingest|read|admin`);
    }
    if (options.consoleDir !== undefined && !existsSync(join(options.consoleDir, 'index.html'))) {
      say(`the web console is not built (no index.html in ${options.consoleDir}): run npm run build; the API works without it`);
    }
    const built = buildApp({ store, config, tokens, https, logger: options.logger === false ? false : { level: config.logLevel }, consoleDir: options.consoleDir });
    context = built.context;
    const app = built.app;
    // Device sequences: the table catches up with the log first (entries appended while we were down).
    devices = await startDeviceTracker({ log: store.log, store: openDeviceStore(config.dir), onError: (err) => app.log.error({ err }, 'recording a device gap failed') });
    context.devices = devices;
    // The WORM archive: refuses to start on a target that is not write-once (docs/ARCHIVE.md).
    if (config.archive.to) {
      archive = await startArchive(config.archive, store, app.log).catch((err: Error & { code?: string }) => {
        throw new ConfigError(`archive ${config.archive.to}: ${err.code ?? 'error'}: ${err.message}`);
      });
    }
    const address = await app.listen({ host: config.host, port: config.port });
    const url = address.replace('[::1]', 'localhost');

    const settings = publicConfig(config);
    const hash = configHash(settings);
    const previous = await lastAdmin(store.log, 'collector.start');
    const target = { type: 'log', id: store.log.origin };
    if (previous && previous.configHash !== hash) {
      await recordAdmin(store.log, 'config.change', { actor: collectorActor(), target, details: { from: previous.config ?? null, to: settings, fromHash: previous.configHash ?? null, toHash: hash } });
    }
    // A previous run on this host that never recorded its stop is said to have been lost, before this one starts.
    const lost = await lostRun(store.log);
    if (lost) {
      await recordAdmin(store.log, 'collector.lost', {
        actor: collectorActor(),
        target,
        reason: `the collector started at index ${lost.startIndex} (pid ${lost.pid}) stopped without recording collector.stop: killed, crashed or the machine lost power`,
        details: { ...lost, lastIndex: store.log.size() - 1 },
      });
    }
    await recordAdmin(store.log, 'collector.start', {
      actor: collectorActor(),
      target,
      details: { version: options.version, verifierKey: store.verifierKey, pid: process.pid, url, config: settings, configHash: hash },
    });
    // Entries another writer (the CLI, a second collector) appended show up here within a second.
    // A failure (a store that no longer checks out) is logged when it first appears or changes, not every second.
    let lastFailure = '';
    const follow = setInterval(
      () =>
        void store.log.catchUp().then(
          () => (lastFailure = ''),
          (err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            if (message !== lastFailure) app.log.error({ err }, `catching up with other writers failed: ${message}`);
            lastFailure = message;
          },
        ),
      1000,
    );
    follow.unref();
    // The log checks itself in the background (verify.everySeconds): logged, in /metrics and /v1/log, and recorded as log.verify.
    const state = context.state;
    selfCheck = startSelfCheck({ dir: config.dir, everySeconds: config.verify.everySeconds, log: store.log, logger: app.log, publish: (status) => (state.selfCheck = status) });
    say(`stele collector ${options.version} listening on ${url} (log ${store.log.origin}, ${store.log.size()} entries)`);

    let closing: Promise<void> | undefined;
    const close = (reason = 'stopped') =>
      (closing ??= (async () => {
        context!.state.closing = true;
        clearInterval(follow);
        await selfCheck!.close();
        for (const res of context!.streams) res.end();
        await app.close();
        await devices!.close();
        await recordAdmin(store.log, 'collector.stop', { actor: collectorActor(), target, details: { version: options.version, verifierKey: store.verifierKey, reason, pid: process.pid } }).catch(() => undefined);
        await archive?.close(true); // a last cycle: the archive ends with collector.stop
        await store.log.close();
        tokens!.close();
      })());
    return { url, app, store, close };
  } catch (err) {
    await selfCheck?.close().catch(() => undefined);
    await archive?.close(false).catch(() => undefined);
    await devices?.close().catch(() => undefined);
    tokens?.close();
    await store.log.close();
    throw err;
  }
}

/** Reads and checks the TLS certificate and key before anything is created: a bad file is a configuration error (exit 2). */
function readTls(certFile: string, keyFile: string): { cert: Buffer; key: Buffer } {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(`TLS ${what} ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const cert = read(certFile, 'certificate');
  const key = read(keyFile, 'key');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError(`TLS certificate ${certFile} and key ${keyFile} are not a PEM certificate and its private key: ${(err as Error).message}`);
  }
  return { cert, key };
}
