/**
 * The collector in-process (`buildApp(...).app.inject`) over a real store in a
 * temporary directory, for the source tests (test/sources-*.test.ts): an
 * ingest and a read token, the log's size, and the fixtures' paths.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { EventRecord } from '@stele/log';
import { buildApp, openTokenStore, resolveConfig, type ServerConfig, type TokenStore } from '@stele/server';
import { initStore, openStore, type Store } from '@stele/store';
import { ROOT } from './helpers.js';

/** A collector in-process. */
export interface Harness {
  dir: string;
  store: Store;
  tokens: TokenStore;
  app: FastifyInstance;
  config: ServerConfig;
  /** Secrets of an ingest and a read token. */
  ingest: string;
  read: string;
  /** The log's size. */
  size(): number;
  /** GET /v1/events with these parameters, as the read token; the parsed body. */
  events(query?: Record<string, string>): Promise<{ events: EventRecord[]; next: string | null; person?: { email: string; identifiers: string[] } }>;
  close(): Promise<void>;
}

/** Starts a collector in-process with these settings layered over the defaults (as flags). */
export async function startHarness(settings: Record<string, unknown> = {}): Promise<Harness> {
  const dir = join(mkdtempSync(join(tmpdir(), 'stele-sources-')), 'data');
  await initStore(dir, 'example.com/sources');
  const config = resolveConfig({ flags: { dir, ...settings } });
  const store = await openStore(dir);
  const tokens = openTokenStore(dir);
  const ingest = tokens.create('kube-audit', 'ingest').token;
  const read = tokens.create('auditor', 'read').token;
  const { app } = buildApp({ store, config, tokens });
  return {
    dir,
    store,
    tokens,
    app,
    config,
    ingest,
    read,
    size: () => store.log.size(),
    async events(query = {}) {
      const res = await app.inject({ method: 'GET', url: '/v1/events', query: { limit: '1000', ...query }, headers: { authorization: `Bearer ${read}` } });
      if (res.statusCode !== 200) throw new Error(`GET /v1/events answered ${res.statusCode}: ${res.body}`);
      return res.json();
    },
    async close() {
      await app.close();
      await store.log.close();
      tokens.close();
      rmSync(join(dir, '..'), { recursive: true, force: true });
    },
  };
}

/** A fixture of test/fixtures/sources as text. */
export function fixture(name: string): string {
  return readFileSync(join(ROOT, 'test/fixtures/sources', name), 'utf8');
}

/** The error code of an answer (undefined when it is not an error). */
export function codeOf(res: LightMyRequestResponse): string | undefined {
  try {
    return (res.json() as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}
