import type { FastifyInstance } from 'fastify';
import { LogError, TILE_WIDTH, encodeBundle, encodeTile, parseTilePath } from '@stele/log';
import { ApiError } from '../errors.js';
import type { AppContext } from '../context.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=5';

/**
 * The static C2SP tlog-tiles API under /log/: the same files `stele export`
 * writes, so any tlog-tiles client can verify the log from them alone.
 */
export function tileRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { log } = ctx.store;
  const open = ctx.config.publicTiles;

  app.get('/log/checkpoint', { onRequest: ctx.guard('read', open) }, async (_request, reply) => {
    const checkpoint = log.checkpoint();
    if (checkpoint === undefined) throw new ApiError(404, 'ERR_NOT_FOUND', 'the log is empty: no checkpoint yet');
    return reply.header('content-type', 'text/plain; charset=utf-8').header('cache-control', 'no-cache, max-age=0').send(checkpoint);
  });

  // Entry bundles hold the events themselves: never anonymous.
  app.get('/log/tile/entries/*', { onRequest: ctx.guard('read') }, async (request, reply) => {
    const path = `tile/entries/${(request.params as { '*': string })['*']}`;
    const parsed = parse(path);
    if (parsed.kind !== 'entries') throw notFound(path);
    const start = parsed.index * TILE_WIDTH;
    if (start + parsed.width > log.size()) throw notFound(path);
    const entries = await log.driver.readEntries(start, start + parsed.width);
    return send(reply, encodeBundle(entries.map((e) => e.bytes)), parsed.width === TILE_WIDTH);
  });

  app.get('/log/tile/*', { onRequest: ctx.guard('read', open) }, async (request, reply) => {
    const path = `tile/${(request.params as { '*': string })['*']}`;
    const parsed = parse(path);
    if (parsed.kind !== 'hash') throw notFound(path);
    const { level, index, width } = parsed.tile;
    const available = Math.floor(log.size() / TILE_WIDTH ** level);
    const start = index * TILE_WIDTH;
    if (start + width > available) throw notFound(path);
    const hashes = await log.driver.readHashes(level * 8, start, start + width);
    return send(reply, encodeTile(hashes), width === TILE_WIDTH);
  });
}

function parse(path: string) {
  try {
    return parseTilePath(path);
  } catch (err) {
    if (err instanceof LogError) throw notFound(path);
    throw err;
  }
}

const notFound = (path: string) => new ApiError(404, 'ERR_NOT_FOUND', `no such tile: ${path}`);

function send(reply: import('fastify').FastifyReply, bytes: Uint8Array, full: boolean) {
  return reply
    .header('content-type', 'application/octet-stream')
    .header('cache-control', full ? IMMUTABLE : SHORT)
    .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}
